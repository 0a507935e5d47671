package org.savevm.api.machine;

/**
 * The "ram" handler's numbers for one migration, named after QEMU 7.2's query-migrate members
 * ({@code ram.*}, {@code xbzrle-cache.*}, {@code compression.*}). Bytes unless said otherwise.
 *
 * @param transferred       stream bytes written by the handler (ram.transferred)
 * @param remaining         dirty bytes still to send (ram.remaining)
 * @param total             RAM size (ram.total)
 * @param duplicate         zero pages sent (ram.duplicate)
 * @param normal            full pages sent (ram.normal)
 * @param normalBytes       their bytes (ram.normal-bytes)
 * @param dirtySyncCount    bitmap syncs (ram.dirty-sync-count)
 * @param dirtyPagesRate    pages dirtied per second over the last sync period (ram.dirty-pages-rate)
 * @param mbps              average throughput in megabits per second (ram.mbps)
 * @param pagesPerSecond    pages sent per second over the last sync period (ram.pages-per-second)
 * @param xbzrleCacheSize   xbzrle-cache.cache-size
 * @param xbzrleBytes       xbzrle-cache.bytes (record header excluded: 3 + encoded length each)
 * @param xbzrlePages       xbzrle-cache.pages
 * @param xbzrleCacheMiss   xbzrle-cache.cache-miss
 * @param xbzrleOverflow    xbzrle-cache.overflow
 * @param compressedPages   compression.pages
 * @param compressedSize    compression.compressed-size
 * @param bytesDirtyPeriod  bytes dirtied between the last two syncs (auto-converge input)
 * @param bytesXferPeriod   bytes sent between the last two syncs (auto-converge input)
 * @param iterations        completed passes over RAM
 */
public record RamMigrationStats(long transferred, long remaining, long total, long duplicate, long normal,
        long normalBytes, long dirtySyncCount, long dirtyPagesRate, double mbps, long pagesPerSecond,
        long xbzrleCacheSize, long xbzrleBytes, long xbzrlePages, long xbzrleCacheMiss, long xbzrleOverflow,
        long compressedPages, long compressedSize, long bytesDirtyPeriod, long bytesXferPeriod, long iterations) {
}
