package org.savevm.machine.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;

/**
 * The generator on a clock the test moves by hand ({@link #runSlices}), so the bytes written are exact; one test
 * runs the real thread on the host's clock and checks only what must hold however the host schedules it.
 */
class WorkloadGeneratorTest {
    private long now = 1_000_000_000L;

    private RamBlock pcRam() {
        return new OffHeapRamBlock("pc.ram", 1L << 20, 1L << 20, false);
    }

    /** Moves the clock {@code count} slices of 10 ms forward, running a slice after each, as the thread does. */
    private void runSlices(WorkloadGenerator g, int count) {
        for (int i = 0; i < count; i++) {
            now += WorkloadGenerator.SLICE_NANOS;
            g.writeDue();
        }
    }

    @Test
    void writesTheDirtyRateOfTheClocksTimeOnlyWhileRunning() {
        RamBlock ram = pcRam();
        long[] bm = new long[(int) (ram.pages() / 64)];
        // 4 MiB/s of 64-byte writes
        WorkloadGenerator g = new WorkloadGenerator(List.of(ram), new WorkloadSpec(4L << 20, 64, 0.5, 0.9, 0.0, 7),
                () -> now);
        runSlices(g, 5);
        assertEquals(0, g.bytesWritten(), "paused at start");
        assertEquals(0, ram.syncDirtyLog(bm));

        g.resume();
        runSlices(g, 20);
        g.pause();
        // 0.2 s at 4 MiB/s = 838860.8 bytes: 13107 whole writes of 64 bytes
        assertEquals(13107L * 64, g.bytesWritten());
        assertTrue(ram.syncDirtyLog(bm) > 0, "the writes dirty pages");

        runSlices(g, 5);
        assertEquals(13107L * 64, g.bytesWritten(), "no write after pause returned");
        assertEquals(0, ram.syncDirtyLog(bm));

        now += TimeUnit.SECONDS.toNanos(1);
        g.resume();
        g.writeDue();
        assertEquals(13107L * 64, g.bytesWritten(), "the time spent paused is not guest time");
    }

    @Test
    void throttleTakesItsShareOfEachSlice() {
        // 8 MiB/s of 256-byte writes
        WorkloadGenerator g = new WorkloadGenerator(List.of(pcRam()), new WorkloadSpec(8L << 20, 256, 1.0, 0.0, 0.0, 3),
                () -> now);
        g.resume();
        runSlices(g, 20);
        g.pause();
        long free = g.bytesWritten();
        // 0.2 s at 8 MiB/s = 1677721.6 bytes: 6553 writes of 256, 153.6 bytes carried
        assertEquals(6553L * 256, free);

        g.setThrottlePercent(90);
        assertEquals(90, g.throttlePercent());
        g.resume();
        runSlices(g, 20);
        g.pause();
        // a tenth of 0.2 s at 8 MiB/s = 167772.16 bytes, plus the 153.6 carried: 655 writes of 256
        assertEquals(655L * 256, g.bytesWritten() - free);
        assertThrows(IllegalArgumentException.class, () -> g.setThrottlePercent(100));
        assertThrows(IllegalArgumentException.class, () -> g.setThrottlePercent(-1));
    }

    @Test
    void aLateSliceMakesUpForFiftyMillisecondsAtMost() {
        WorkloadGenerator g = new WorkloadGenerator(List.of(pcRam()), new WorkloadSpec(4L << 20, 64, 0.5, 0.9, 0.0, 7),
                () -> now);
        g.resume();
        now += TimeUnit.SECONDS.toNanos(1);
        g.writeDue();
        // 0.05 s at 4 MiB/s = 209715.2 bytes: 3276 writes of 64
        assertEquals(3276L * 64, g.bytesWritten());
    }

    @Test
    void zeroedPagesCountAsWholePages() {
        // every write zeroes a page: 4 KiB counted for each 64-byte share of the budget
        WorkloadGenerator g = new WorkloadGenerator(List.of(pcRam()), new WorkloadSpec(64L * 100, 64, 1.0, 0.0, 1.0, 5),
                () -> now);
        g.resume();
        runSlices(g, 100);
        // 1 s at 6400 bytes/s = 100 writes of 64, each zeroing a page
        assertEquals(100L * RamBlock.TARGET_PAGE_SIZE, g.bytesWritten());
    }

    @Test
    void machineThreadWritesWhileRunningAndNothingAfterPauseReturns() throws Exception {
        WorkloadSpec spec = new WorkloadSpec(4L << 20, 64, 0.5, 0.9, 0.0, 7);
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 1L << 20, spec)) {
            RamBlock ram = m.ramBlock("pc.ram").orElseThrow();
            long[] bm = new long[(int) (ram.pages() / 64)];
            Thread.sleep(50);
            assertEquals(0, m.workload().bytesWritten(), "paused at start");
            m.workload().resume();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (m.workload().bytesWritten() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            m.workload().pause();
            long written = m.workload().bytesWritten();
            assertTrue(written > 0, "the thread wrote nothing in 10 s");
            assertTrue(ram.syncDirtyLog(bm) > 0);
            Thread.sleep(50);
            assertEquals(written, m.workload().bytesWritten(), "no write after pause returned");
            assertEquals(0, ram.syncDirtyLog(bm));
        }
    }
}
