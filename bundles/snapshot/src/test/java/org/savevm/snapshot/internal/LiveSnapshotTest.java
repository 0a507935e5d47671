package org.savevm.snapshot.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.savevm.api.machine.RamBlock;
import org.savevm.snapshot.LiveSave;
import org.savevm.testing.MemorySnapshotImage;

/**
 * {@code savevm --live}: the guest runs while RAM is written, with copy-before-write, and loadvm restores exactly the
 * RAM, devices, disks and clock of the instant the guest was paused at (taken in the test at that pause), not what
 * the guest wrote afterwards.
 */
class LiveSnapshotTest {
    private static final long RAM = 64L << 20;

    private static String[] state(TestMachine m) throws Exception {
        return new String[] {m.machine.ramHash(), m.machine.drives().get(0).contentHash(),
            Integer.toString(m.serial.state().scr()), Long.toString(m.clock.nowNs())};
    }

    @Test
    void loadvmRestoresTheInstantOfALiveSavevmWhileTheGuestKeptWriting() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 4 << 20);
        try (TestMachine m = new TestMachine(RAM, 0, d0)) {
            m.runGuest(8L << 20);
            String[][] instant = new String[1][];
            long[] writtenAtInstant = new long[1];
            RamBlock pc = m.machine.ramBlock("pc.ram").orElseThrow();
            byte[] after = new byte[4 << 20];
            new Random(8).nextBytes(after);
            m.guest.start();
            m.beforeStart = () -> {
                try {
                    instant[0] = state(m);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                writtenAtInstant[0] = m.machine.workload().bytesWritten();
                // the guest writes 4 MiB before the save reached any page: every one is copied aside first
                pc.write(16L << 20, after, 0, after.length);
            };
            LiveSave r = m.snapshots.saveLive(Optional.of("live"), true, Optional.empty(), Optional.empty());
            assertTrue(m.guest.running(), "the guest runs after a live savevm");
            m.guest.stop();
            assertEquals("live", r.tag());
            assertTrue(r.copiedPages() >= after.length / 4096, "pages copied before write: " + r.copiedPages());
            assertTrue(r.guestPauseNanos() > 0 && r.guestPauseNanos() <= r.totalNanos(), r.toString());
            assertTrue(m.machine.workload().bytesWritten() >= writtenAtInstant[0]);
            assertNotEquals(instant[0][0], m.machine.ramHash(), "RAM changed after the instant");
            SnapshotInfoCheck.vmState(m, "live");
            m.runGuest(2L << 20);
            m.snapshots.load("live", Optional.empty(), Optional.empty());
            assertArrayEquals(instant[0], state(m), "RAM, disk, serial, clock at the instant");
            // the frozen views are gone: a plain savevm and loadvm still work
            m.runGuest(1L << 20);
            String[] before = state(m);
            m.snapshots.save(Optional.of("plain"), true, Optional.empty(), Optional.empty());
            m.runGuest(1L << 20);
            m.snapshots.load("plain", Optional.empty(), Optional.empty());
            assertArrayEquals(before, state(m));
            assertEquals(List.of("live", "plain"),
                    m.snapshots.list().onAllDisks().stream().map(s -> s.name()).toList());
        }
    }

    /** The live snapshot lists like any other: VM state size and clock. */
    private static final class SnapshotInfoCheck {
        static void vmState(TestMachine m, String name) throws Exception {
            var info = m.snapshots.list().onAllDisks().stream().filter(s -> s.name().equals(name)).findFirst()
                    .orElseThrow();
            assertTrue(info.vmStateSize() > 0, "VM state size " + info.vmStateSize());
        }
    }
}
