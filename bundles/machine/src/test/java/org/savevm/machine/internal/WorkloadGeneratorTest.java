package org.savevm.machine.internal;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;

class WorkloadGeneratorTest {

    @Test
    void writesOnlyWhileRunningAndDirtiesPages() throws Exception {
        WorkloadSpec spec = new WorkloadSpec(4L << 20, 64, 0.5, 0.9, 0.0, 7);
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 1L << 20, spec)) {
            RamBlock ram = m.ramBlock("pc.ram").orElseThrow();
            long[] bm = new long[(int) (ram.pages() / 64)];
            Thread.sleep(50);
            assertEquals(0, m.workload().bytesWritten(), "paused at start");
            m.workload().resume();
            Thread.sleep(200);
            m.workload().pause();
            long written = m.workload().bytesWritten();
            assertTrue(written > 100_000, "wrote " + written);
            assertTrue(ram.syncDirtyLog(bm) > 0);
            Thread.sleep(50);
            assertEquals(written, m.workload().bytesWritten(), "no write after pause returned");
            assertEquals(0, ram.syncDirtyLog(bm));
        }
    }

    @Test
    void throttleSlowsTheGuest() throws Exception {
        WorkloadSpec spec = new WorkloadSpec(8L << 20, 256, 1.0, 0.0, 0.0, 3);
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 1L << 20, spec)) {
            m.workload().resume();
            Thread.sleep(200);
            m.workload().pause();
            long free = m.workload().bytesWritten();
            m.workload().setThrottlePercent(90);
            m.workload().resume();
            Thread.sleep(200);
            m.workload().pause();
            long throttled = m.workload().bytesWritten() - free;
            assertTrue(throttled * 3 < free, "free " + free + " throttled " + throttled);
            assertThrows(IllegalArgumentException.class, () -> m.workload().setThrottlePercent(100));
        }
    }
}
