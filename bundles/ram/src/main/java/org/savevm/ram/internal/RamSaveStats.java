package org.savevm.ram.internal;

import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.ram.codec.RamFlags;

/**
 * Counters of one save session. Written by the migration thread only; read (racily but without tearing,
 * the fields are volatile) by query-migrate.
 */
final class RamSaveStats {
    volatile long transferred;
    volatile long remaining;
    volatile long total;
    volatile long duplicate;
    volatile long normal;
    volatile long dirtySyncCount;
    volatile long dirtyPagesRate;
    volatile long pagesPerSecond;
    volatile long xbzrleCacheSize;
    volatile long xbzrleBytes;
    volatile long xbzrlePages;
    volatile long xbzrleCacheMiss;
    volatile long xbzrleOverflow;
    volatile long compressedPages;
    volatile long compressedSize;
    volatile long compressBusy;
    /** release-ram: pages given back on the source after they went out in postcopy. */
    volatile long releasedPages;
    volatile long bytesDirtyPeriod;
    volatile long bytesXferPeriod;
    volatile long iterations;
    volatile long startNanos;
    volatile long endNanos;

    RamMigrationStats snapshot(long nowNanos) {
        long end = endNanos != 0 ? endNanos : nowNanos;
        long ms = Math.max(1, (end - startNanos) / 1_000_000L);
        double mbps = startNanos == 0 ? 0 : transferred * 8.0 / 1000.0 / ms;
        return new RamMigrationStats(transferred, remaining, total, duplicate, normal,
                normal * RamBlock.TARGET_PAGE_SIZE, dirtySyncCount, dirtyPagesRate, mbps, pagesPerSecond,
                xbzrleCacheSize, xbzrleBytes, xbzrlePages, xbzrleCacheMiss, xbzrleOverflow, compressedPages,
                compressedSize, bytesDirtyPeriod, bytesXferPeriod, iterations);
    }
}
