package org.savevm.api.block;

import java.util.Objects;

/**
 * One internal snapshot of an image, with the fields of a qcow2 snapshot table entry that QEMU's
 * {@code info snapshots} and {@code qemu-img snapshot -l} show.
 *
 * @param id           the snapshot's id string (QEMU numbers them "1", "2", …)
 * @param name         the tag
 * @param vmStateSize  bytes of VM state saved with it (0: a disk-only snapshot)
 * @param dateSeconds  wall clock at creation, seconds since the epoch
 * @param dateNanos    and its nanoseconds
 * @param vmClockNanos the guest's virtual clock at creation
 * @param icount       instruction count at creation, -1 when not recorded (QEMU without icount)
 * @param diskSize     guest-visible size of the disk when the snapshot was taken
 */
public record SnapshotInfo(String id, String name, long vmStateSize, long dateSeconds, int dateNanos,
        long vmClockNanos, long icount, long diskSize) {
    public SnapshotInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        if (vmStateSize < 0 || diskSize < 0 || dateNanos < 0 || dateNanos >= 1_000_000_000) {
            throw new IllegalArgumentException("bad snapshot " + id + " '" + name + "': vm state " + vmStateSize
                    + " disk " + diskSize + " nanos " + dateNanos);
        }
    }
}
