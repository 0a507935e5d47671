package org.savevm.migration.outgoing;

/**
 * QEMU's auto-converge (ram.c migration_trigger_throttle and mig_throttle_guest_down): once per dirty
 * rate period, if the guest dirtied more than throttle-trigger-threshold % of what was sent in that
 * period for the second time, throttle the guest: cpu-throttle-initial first, then up by
 * cpu-throttle-increment (with tailslow: no more than what brings the dirty rate to the threshold),
 * never above max-cpu-throttle.
 */
public final class AutoConverge {
    private final long triggerThreshold;
    private final long initial;
    private final long increment;
    private final boolean tailslow;
    private final long max;
    private int dirtyRateHighCount;

    public AutoConverge(long triggerThreshold, long initial, long increment, boolean tailslow, long max) {
        this.triggerThreshold = triggerThreshold;
        this.initial = initial;
        this.increment = increment;
        this.tailslow = tailslow;
        this.max = max;
    }

    /**
     * One finished period. Returns the new throttle percentage, or -1 to leave it as it is.
     *
     * @param bytesDirtyPeriod bytes of pages dirtied in the period
     * @param bytesXferPeriod  bytes sent in the period
     * @param throttleNow      current throttle, 0 when not throttling
     */
    public int onPeriod(long bytesDirtyPeriod, long bytesXferPeriod, int throttleNow) {
        long dirtyThreshold = bytesXferPeriod * triggerThreshold / 100;
        if (bytesDirtyPeriod <= dirtyThreshold || ++dirtyRateHighCount < 2) {
            return -1;
        }
        dirtyRateHighCount = 0;
        if (throttleNow == 0) {
            return (int) initial;
        }
        long inc = increment;
        if (tailslow) {
            long cpuNow = 100 - throttleNow;
            long cpuIdeal = (long) (cpuNow * (dirtyThreshold * 1.0 / bytesDirtyPeriod));
            inc = Math.min(cpuNow - cpuIdeal, increment);
        }
        return (int) Math.min(throttleNow + inc, max);
    }
}
