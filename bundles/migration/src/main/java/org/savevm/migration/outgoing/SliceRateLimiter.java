package org.savevm.migration.outgoing;

import org.savevm.stream.RateLimiter;

/**
 * QEMU's rate limit: a budget of max-bandwidth / 10 bytes per 100 ms slice (XFER_LIMIT_RATIO); a new
 * slice starts when the migration thread updates its counters. 0 bytes per second means unlimited.
 */
public final class SliceRateLimiter implements RateLimiter {
    /** QEMU's BUFFER_DELAY. */
    public static final long SLICE_MILLIS = 100;
    static final long SLICES_PER_SECOND = 1000 / SLICE_MILLIS;

    private volatile long bytesPerSlice;
    private volatile long sliceStartBytes;

    public SliceRateLimiter(long bytesPerSecond) {
        setBandwidth(bytesPerSecond);
    }

    /** Takes effect at once, as QEMU's qemu_file_set_rate_limit does. */
    public void setBandwidth(long bytesPerSecond) {
        this.bytesPerSlice = bytesPerSecond <= 0 ? 0 : Math.max(1, bytesPerSecond / SLICES_PER_SECOND);
    }

    public long bytesPerSlice() {
        return bytesPerSlice;
    }

    /** Starts a new slice at stream position {@code totalBytes}. */
    public void newSlice(long totalBytes) {
        sliceStartBytes = totalBytes;
    }

    @Override
    public boolean exceeded(long bytesWrittenTotal) {
        long limit = bytesPerSlice;
        return limit > 0 && bytesWrittenTotal - sliceStartBytes > limit;
    }
}
