package org.savevm.api.machine;

/**
 * What the workload generator writes.
 *
 * @param dirtyBytesPerSecond bytes written per second at 0 % throttle
 * @param writeSize           bytes per write (1 … 4096), inside one page
 * @param hotFraction         share of pc.ram that is the "hot" working set (0 … 1]
 * @param locality            probability that a write lands in the hot set (0 … 1)
 * @param zeroShare           probability that a write zeroes its whole page instead (0 … 1)
 * @param seed                random seed, for reproducible runs
 */
public record WorkloadSpec(long dirtyBytesPerSecond, int writeSize, double hotFraction, double locality,
        double zeroShare, long seed) {

    /** 8 MiB/s of 64-byte writes, 90 % of them into a hot tenth of RAM, 10 % page zeroing. */
    public static final WorkloadSpec DEFAULT = new WorkloadSpec(8L << 20, 64, 0.1, 0.9, 0.1, 1);

    public WorkloadSpec {
        if (dirtyBytesPerSecond < 0) {
            throw new IllegalArgumentException("negative dirty rate " + dirtyBytesPerSecond);
        }
        if (writeSize < 1 || writeSize > RamBlock.TARGET_PAGE_SIZE) {
            throw new IllegalArgumentException("write size must be 1..4096: " + writeSize);
        }
        if (!(hotFraction > 0 && hotFraction <= 1) || !(locality >= 0 && locality <= 1)
                || !(zeroShare >= 0 && zeroShare <= 1)) {
            throw new IllegalArgumentException("fractions out of range: hot=" + hotFraction + " locality="
                    + locality + " zero=" + zeroShare);
        }
    }
}
