/**
 * Disks: the image layer (raw and qcow2 files as QEMU keeps them, opened through {@link ImageService}) and the
 * machine's drives ({@link BlockDrive}: an image attached under a device name, with a per-chunk dirty log), which
 * the "block" live handler migrates and snapshots are taken of.
 */
@Export
@Version("1.2.0")
package org.savevm.api.block;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
