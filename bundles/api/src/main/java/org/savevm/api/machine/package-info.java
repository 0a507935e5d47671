/**
 * The emulated machine as the migration code sees it: guest RAM blocks with dirty logging (QEMU's
 * RAMBlock list), the workload that plays the guest, and the statistics of the "ram" live handler
 * (QEMU's query-migrate {@code ram} and {@code xbzrle-cache} members).
 *
 * <p>2.0.0: {@link RamMigrationMonitor} is no service any more but the per-migration stats the ram handler
 * publishes in the {@code MigrationContext}, as it does its postcopy controls.
 * 2.1.0: {@link Machine#drives()}, {@link Machine#detachDrive}, {@link Machine#resizeDrive}.
 * 2.2.0: {@link PageFaultHandler#pageArrived} (postcopy-blocktime), {@link RamBlock#release} (release-ram),
 * {@link RamPostcopySource}'s recovery methods.
 */
@Export
@Version("2.3.0")
package org.savevm.api.machine;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
