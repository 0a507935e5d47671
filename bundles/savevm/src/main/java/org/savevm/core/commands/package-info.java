/**
 * The wire format of QEMU_VM_COMMAND records: QEMU 7.2's command ids and length table
 * ({@link org.savevm.core.commands.MigrationCommand}) and the writer behind
 * {@link org.savevm.api.OutgoingCommands} ({@link org.savevm.core.commands.CommandWriter}). The
 * orchestrator's contract (SaveVm, the command callbacks, the postcopy steps) is in {@code org.savevm.api}.
 *
 * <p>2.0.0: StreamSaver, StreamLoader, PostcopyOutgoing, IncomingCommands and DiscardRange left for the api.
 */
@Export
@Version("2.0.0")
package org.savevm.core.commands;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
