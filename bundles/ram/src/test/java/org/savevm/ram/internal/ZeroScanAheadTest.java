package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.savevm.api.machine.RamBlock;
import org.savevm.machine.internal.SimulatedMachine;

/** The second core's zero results: right, and never used across a dirty-log sync. */
class ZeroScanAheadTest {
    private static final int GROUP = 64 * 4096;

    @Test
    void helperResultsMatchTheMemoryAndASyncDropsThem() throws Exception {
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 16L << 20)) {
            RamBlock ram = m.ramBlock("pc.ram").orElseThrow();
            int groups = (int) (ram.usedLength() / GROUP);
            // groups 0-15 never written, 16-31 written zeros, every third group from 32 has one byte set
            ram.fill(16L * GROUP, 16L * GROUP, (byte) 0);
            for (int g = 32; g < groups; g += 3) {
                ram.fill((long) g * GROUP + 12345, 1, (byte) 7);
            }
            int block = m.ramBlocks().indexOf(ram);
            try (ZeroScanAhead scan = new ZeroScanAhead(m.ramBlocks().toArray(new RamBlock[0]))) {
                scan.start();
                assertTrue(scan.awaitSweep(10_000), "helper sweep ended");
                for (int g = 0; g < groups; g++) {
                    boolean data = g >= 32 && (g - 32) % 3 == 0;
                    assertEquals(!data, scan.groupIsZero(block, g), "group " + g);
                }
                // A write after the helper read group 40 (zero then): without a sync the stale "zero"
                // stands (the write's dirty bit is still in the log, so the page goes again later) ...
                assertTrue(scan.groupIsZero(block, 40));
                ram.fill(40L * GROUP + 4096, 1, (byte) 1);
                assertTrue(scan.groupIsZero(block, 40));
                // ... after a sync the log bit is consumed, so the result must be taken anew
                scan.invalidate();
                assertFalse(scan.groupIsZero(block, 40));
                assertTrue(scan.groupIsZero(block, 42));
                assertFalse(scan.groupIsZero(block, 41));
            }
        }
    }
}
