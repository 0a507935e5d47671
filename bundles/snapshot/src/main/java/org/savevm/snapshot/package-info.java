/**
 * Internal snapshots of the whole machine (QEMU 7.2's savevm / loadvm / delvm / info snapshots and the QMP job
 * forms snapshot-save / snapshot-load / snapshot-delete) as a service: {@link SnapshotService}. The snapshots live
 * in the drives' images ({@code org.savevm.api.block.InternalSnapshots}); the VM state stream in the first
 * snapshot-capable one.
 */
@Export
@Version("1.1.0")
package org.savevm.snapshot;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
