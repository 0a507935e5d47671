package org.savevm.api.migration;

import java.util.LinkedHashMap;
import java.util.Map;

import org.savevm.api.block.BlockMigrationStats;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamMigrationStats;

/**
 * A snapshot of one migration with QEMU 7.2's query-migrate members. Times in ms, sizes in bytes.
 *
 * @param ram              the "ram" handler's stats, or null when no ram handler took part
 * @param streamBytes      every byte written to (source) or read from (destination) the stream
 * @param precopyBytes     stream bytes written before the guest stopped
 * @param downtimeBytes    stream bytes written while the guest was stopped
 * @param mbps             megabits per second over the transfer time (QEMU's s->mbps)
 * @param expectedDowntime while active: pending bytes over the measured bandwidth
 * @param xbzrle           capability xbzrle was on (adds "xbzrle-cache")
 * @param compress         capability compress was on (adds "compression")
 * @param autoConverge     capability auto-converge was on (adds "cpu-throttle-percentage" while throttling)
 * @param postcopyRequests pages the destination asked for on the return path
 * @param multifdBytes     bytes written on the multifd channels (query-migrate ram.multifd-bytes)
 * @param postcopyBytes    stream bytes written after the switch to postcopy (query-migrate ram.postcopy-bytes)
 * @param blocktime        the destination's postcopy-blocktime measurement, null unless that capability is on
 * @param disk             the "block" handler's stats (query-migrate {@code disk}, shown while the migration is
 *                         active, as QEMU's populate_disk_info), or null when block migration is off
 */
public record MigrationInfo(MigrationStatus status, long totalTime, long setupTime, long downtime,
        long expectedDowntime, RamMigrationStats ram, long streamBytes, long precopyBytes, long downtimeBytes,
        double mbps, int throttlePercent, boolean xbzrle, boolean compress, boolean autoConverge, String errorDesc, long postcopyRequests,
        long multifdBytes, long postcopyBytes, PostcopyBlocktime blocktime, BlockMigrationStats disk) {

    public static final MigrationInfo NONE = new MigrationInfo(MigrationStatus.NONE, 0, 0, 0, 0, null, 0, 0, 0, 0,
            0, false, false, false, null, 0, 0);

    /** Without postcopy bytes and blocktime (1.0.0's members). */
    public MigrationInfo(MigrationStatus status, long totalTime, long setupTime, long downtime,
            long expectedDowntime, RamMigrationStats ram, long streamBytes, long precopyBytes, long downtimeBytes,
            double mbps, int throttlePercent, boolean xbzrle, boolean compress, boolean autoConverge, String errorDesc,
            long postcopyRequests, long multifdBytes) {
        this(status, totalTime, setupTime, downtime, expectedDowntime, ram, streamBytes, precopyBytes, downtimeBytes,
                mbps, throttlePercent, xbzrle, compress, autoConverge, errorDesc, postcopyRequests, multifdBytes, 0,
                null, null);
    }

    /** Without disk stats (1.1.0's postcopy members). */
    public MigrationInfo(MigrationStatus status, long totalTime, long setupTime, long downtime,
            long expectedDowntime, RamMigrationStats ram, long streamBytes, long precopyBytes, long downtimeBytes,
            double mbps, int throttlePercent, boolean xbzrle, boolean compress, boolean autoConverge, String errorDesc,
            long postcopyRequests, long multifdBytes, long postcopyBytes, PostcopyBlocktime blocktime) {
        this(status, totalTime, setupTime, downtime, expectedDowntime, ram, streamBytes, precopyBytes, downtimeBytes,
                mbps, throttlePercent, xbzrle, compress, autoConverge, errorDesc, postcopyRequests, multifdBytes,
                postcopyBytes, blocktime, null);
    }

    /** The query-migrate object, members in QEMU's order. */
    public Map<String, Object> toQmp() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", status.qemuName());
        if (status == MigrationStatus.NONE) {
            return m;
        }
        if (status != MigrationStatus.SETUP) {
            m.put("setup-time", setupTime);
        }
        m.put("total-time", totalTime);
        if (status == MigrationStatus.COMPLETED) {
            m.put("downtime", downtime);
        } else if (status == MigrationStatus.ACTIVE) {
            m.put("expected-downtime", expectedDowntime);
        }
        m.put("ram", ramMap());
        if (disk != null && (status == MigrationStatus.ACTIVE || status == MigrationStatus.POSTCOPY_ACTIVE
                || status == MigrationStatus.PRE_SWITCHOVER || status == MigrationStatus.DEVICE)) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("transferred", disk.transferred());
            d.put("remaining", disk.remaining());
            d.put("total", disk.total());
            m.put("disk", d);
        }
        if (xbzrle && ram != null) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("cache-size", ram.xbzrleCacheSize());
            x.put("bytes", ram.xbzrleBytes());
            x.put("pages", ram.xbzrlePages());
            x.put("cache-miss", ram.xbzrleCacheMiss());
            x.put("overflow", ram.xbzrleOverflow());
            m.put("xbzrle-cache", x);
        }
        if (compress && ram != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("pages", ram.compressedPages());
            c.put("compressed-size", ram.compressedSize());
            c.put("compression-rate", ram.compressedSize() == 0 ? 0.0
                    : (double) ram.compressedPages() * RamBlock.TARGET_PAGE_SIZE / ram.compressedSize());
            m.put("compression", c);
        }
        if (autoConverge && throttlePercent > 0) {
            m.put("cpu-throttle-percentage", throttlePercent);
        }
        if (errorDesc != null) {
            m.put("error-desc", errorDesc);
        }
        if (blocktime != null) {
            m.put("postcopy-blocktime", blocktime.total());
            m.put("postcopy-vcpu-blocktime", blocktime.vcpu());
        }
        return m;
    }

    private Map<String, Object> ramMap() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("transferred", ram != null ? ram.transferred() : streamBytes);
        r.put("remaining", ram != null ? ram.remaining() : 0);
        r.put("total", ram != null ? ram.total() : 0);
        r.put("duplicate", ram != null ? ram.duplicate() : 0);
        r.put("skipped", 0);
        r.put("normal", ram != null ? ram.normal() : 0);
        r.put("normal-bytes", ram != null ? ram.normalBytes() : 0);
        r.put("dirty-pages-rate", ram != null ? ram.dirtyPagesRate() : 0);
        r.put("mbps", Math.round(mbps * 1000) / 1000.0);
        r.put("dirty-sync-count", ram != null ? ram.dirtySyncCount() : 0);
        r.put("postcopy-requests", postcopyRequests);
        r.put("page-size", RamBlock.TARGET_PAGE_SIZE);
        r.put("multifd-bytes", multifdBytes);
        r.put("pages-per-second", ram != null ? ram.pagesPerSecond() : 0);
        r.put("precopy-bytes", precopyBytes);
        r.put("downtime-bytes", downtimeBytes);
        r.put("postcopy-bytes", postcopyBytes);
        return r;
    }
}
