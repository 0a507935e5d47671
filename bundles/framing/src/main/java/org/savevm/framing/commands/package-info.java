/**
 * The wire format of QEMU_VM_COMMAND records: QEMU 7.2's command ids and length table
 * ({@link org.savevm.framing.commands.MigrationCommand}) and the writer behind
 * {@link org.savevm.api.OutgoingCommands} ({@link org.savevm.framing.commands.CommandWriter}). Commands
 * are read by the walker into {@link org.savevm.framing.walk.StreamCommand}. The orchestrator's contract
 * (SaveVm, the command callbacks, the postcopy steps) is in {@code org.savevm.api}.
 *
 * <p>1.0.0: was {@code org.savevm.core.commands} 2.0.0 of the savevm bundle.
 */
@Export
@Version("1.0.0")
package org.savevm.framing.commands;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
