package org.savevm.snapshot;

/**
 * What a live savevm did ({@link SnapshotService#saveLive}): the tag, how long the guest was stopped (QEMU's
 * "downtime": the device state, the RAM write protection and the disks' instant), the whole save, and how many RAM
 * pages a guest write had to copy aside before the save reached them.
 */
public record LiveSave(String tag, long guestPauseNanos, long totalNanos, long copiedPages) {
}
