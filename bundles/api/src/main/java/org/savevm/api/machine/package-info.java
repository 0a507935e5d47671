/**
 * The emulated machine as the migration code sees it: guest RAM blocks with dirty logging (QEMU's
 * RAMBlock list), the workload that plays the guest, and the statistics of the "ram" live handler
 * (QEMU's query-migrate {@code ram} and {@code xbzrle-cache} members).
 */
@Export
@Version("1.2.0")
package org.savevm.api.machine;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
