package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.savevm.migration.outgoing.AutoConverge;
import org.savevm.migration.outgoing.SliceRateLimiter;

class AutoConvergeTest {
    @Test
    void throttlesOnTheSecondHighPeriodThenStepsUpToTheMax() {
        AutoConverge ac = new AutoConverge(50, 20, 10, false, 45);
        // Dirtied 60 of 100 sent: above 50 % of the transfer.
        assertEquals(-1, ac.onPeriod(60, 100, 0), "one high period is not enough");
        assertEquals(20, ac.onPeriod(60, 100, 0), "second high period: cpu-throttle-initial");
        assertEquals(-1, ac.onPeriod(60, 100, 20));
        assertEquals(30, ac.onPeriod(60, 100, 20), "then + cpu-throttle-increment");
        assertEquals(-1, ac.onPeriod(60, 100, 30));
        assertEquals(40, ac.onPeriod(60, 100, 30));
        assertEquals(-1, ac.onPeriod(60, 100, 40));
        assertEquals(45, ac.onPeriod(60, 100, 40), "never above max-cpu-throttle");
    }

    @Test
    void slowPeriodsDoNotCountAndDoNotResetTheCount() {
        AutoConverge ac = new AutoConverge(50, 20, 10, false, 99);
        assertEquals(-1, ac.onPeriod(60, 100, 0));
        assertEquals(-1, ac.onPeriod(50, 100, 0), "exactly at the threshold is not too fast");
        // QEMU keeps dirty_rate_high_cnt across slow periods.
        assertEquals(20, ac.onPeriod(60, 100, 0));
    }

    @Test
    void tailslowStepsOnlyAsFarAsNeeded() {
        AutoConverge ac = new AutoConverge(50, 20, 10, true, 99);
        ac.onPeriod(55, 100, 20);
        // cpu now 80 %, ideal 80 * 50/55 = 72 → increment min(8, 10) = 8.
        assertEquals(28, ac.onPeriod(55, 100, 20));
    }

    @Test
    void rateLimiterBudgetsATenthOfTheBandwidthPerSlice() {
        SliceRateLimiter l = new SliceRateLimiter(10_000_000);
        assertEquals(1_000_000, l.bytesPerSlice());
        l.newSlice(5_000_000);
        assertEquals(false, l.exceeded(6_000_000));
        assertEquals(true, l.exceeded(6_000_001));
        l.setBandwidth(0);
        assertEquals(false, l.exceeded(Long.MAX_VALUE), "0 is unlimited");
    }
}
