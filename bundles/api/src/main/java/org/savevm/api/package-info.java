/**
 * The savevm SPI. State handlers are OSGi services of two kinds: {@link LiveStateHandler} (QEMU's
 * SaveVMHandlers: ram, block, ...) and {@link DeviceStateHandler} (a VMState descriptor plus the state
 * object it describes). Each carries a {@link SectionRegistration}; the {@link StateRegistry} discovers
 * them, orders them and hands the save and load paths a frozen {@link RegistryView}. {@link SaveVm} with
 * {@link OutgoingCommands}, {@link IncomingCommands} and the per-migration {@link MigrationContext} is the
 * whole contract between a migration orchestrator and the savevm core.
 *
 * <p>2.0.0: live handlers open their sessions with a {@link MigrationContext} (no attachments on
 * {@link MigrationSettings} any more); the orchestrator's contract (commands, postcopy steps) moved here
 * from the savevm bundle's {@code org.savevm.core.commands}.
 * 2.2.0: postcopy recovery: {@link IncomingCommands#postcopyPaused}, {@code SaveVm.Outgoing.resumeOn}; {@link SaveVm#saveAll},
 * the whole-stream save that save-state and the snapshots share.
 * 2.3.0: {@code SaveVm.Outgoing.captureDeviceState} (live snapshots: device state of the instant, written at completion).
 */
@Export
@Version("2.3.0")
package org.savevm.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
