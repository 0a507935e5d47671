package org.savevm.snapshot;

import java.util.List;

import org.savevm.api.block.SnapshotInfo;

/**
 * What {@code info snapshots} shows (QEMU 7.2's hmp_info_snapshots): the snapshots of the VM state disk that every
 * included disk has by name, in that disk's table order, and per disk the snapshots that are not on all of them.
 *
 * @param anySnapshot false when no snapshot-capable disk has any snapshot ("There is no snapshot available.")
 * @param onAllDisks  the loadable ones, as listed by the VM state disk (their ids may differ between disks)
 * @param partial     per disk (device name, drive order) the snapshots left over; disks with none left are omitted
 */
public record SnapshotListing(boolean anySnapshot, List<SnapshotInfo> onAllDisks, List<Partial> partial) {
    public SnapshotListing {
        onAllDisks = List.copyOf(onAllDisks);
        partial = List.copyOf(partial);
    }

    /** The snapshots of one disk that are missing on another disk. */
    public record Partial(String device, List<SnapshotInfo> snapshots) {
        public Partial {
            snapshots = List.copyOf(snapshots);
        }
    }
}
