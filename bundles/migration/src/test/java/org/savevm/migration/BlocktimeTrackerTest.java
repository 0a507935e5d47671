package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.savevm.api.migration.PostcopyBlocktime;
import org.savevm.migration.postcopy.BlocktimeTracker;

/** QEMU's blocktime: per vCPU its own waits; the total only while every vCPU waits at once. */
class BlocktimeTrackerTest {
    private static final long MS = 1_000_000L;

    @Test
    void totalCountsOnlyTheTimeAllVcpusWait() throws Exception {
        AtomicLong now = new AtomicLong();
        BlocktimeTracker t = new BlocktimeTracker(now::get);
        // vCPU 1 is one other thread, always the same
        ExecutorService vcpu1 = Executors.newSingleThreadExecutor();
        try {
            // vCPU 0 (this thread) faults at 0 and gets its page at 10 ms
            t.faultBegin();
            now.set(10 * MS);
            t.faultEnd(10 * MS);
            assertEquals(new PostcopyBlocktime(10, List.of(10L)), t.snapshot(), "one vCPU: its wait is the total");

            // vCPU 1 faults at 20 ms: vCPU 0 runs, so nothing counts in the total
            now.set(20 * MS);
            vcpu1.submit(t::faultBegin).get();
            // vCPU 0 faults at 25 ms: both wait from here
            now.set(25 * MS);
            t.faultBegin();
            now.set(30 * MS);
            t.faultEnd(5 * MS);
            // vCPU 1 gets its page at 40 ms
            now.set(40 * MS);
            vcpu1.submit(() -> t.faultEnd(20 * MS)).get();
            assertEquals(new PostcopyBlocktime(10 + 5, List.of(15L, 20L)), t.snapshot());
        } finally {
            vcpu1.shutdownNow();
        }
    }
}
