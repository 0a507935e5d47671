package org.savevm.snapshot.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.snapshot.SnapshotException;
import org.savevm.snapshot.SnapshotListing;
import org.savevm.testing.MemoryBlockImage;
import org.savevm.testing.MemorySnapshotImage;

/**
 * QEMU 7.2's savevm / loadvm / delvm / info snapshots over in-memory snapshot images, with the real core, ram
 * handler, timer and serial device: the state comes back exactly, and every refusal has QEMU's words.
 */
class SnapshotManagerTest {
    private static final Optional<String> NONE = Optional.empty();
    private static final Optional<List<String>> ALL = Optional.empty();

    private static String[] hashes(TestMachine m) throws Exception {
        return new String[] {m.machine.ramHash(), m.machine.drives().get(0).contentHash(),
            m.machine.drives().get(1).contentHash(), Integer.toString(m.serial.state().scr()),
            Long.toString(m.clock.nowNs())};
    }

    @Test
    void loadvmRestoresRamDevicesDisksAndClockAfterTheGuestKeptWriting() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 4 << 20);
        MemorySnapshotImage d1 = new MemorySnapshotImage("d1", 2 << 20);
        try (TestMachine m = new TestMachine(32L << 20, 8L << 20, d0, d1)) {
            m.runGuest(2L << 20);
            m.serial.writePort(7, 0x5a);
            String[] before = hashes(m);

            assertEquals("s1", m.snapshots.save(Optional.of("s1"), true, NONE, ALL));
            assertFalse(m.guest.running(), "a stopped guest stays stopped");
            assertEquals(List.of(before), List.of(hashes(m)), "savevm changed the machine");

            m.runGuest(2L << 20);
            m.serial.writePort(7, 0x11);
            String[] after = hashes(m);
            assertNotEquals(before[0], after[0], "the guest wrote no RAM");
            assertTrue(!before[1].equals(after[1]) || !before[2].equals(after[2]), "the guest wrote no disk");
            assertNotEquals(before[3], after[3]);

            assertEquals(List.of(), m.snapshots.load("s1", NONE, ALL));
            assertEquals(List.of(before), List.of(hashes(m)), "loadvm did not restore RAM, disks, serial, clock");
            assertFalse(m.guest.running());

            SnapshotInfo on0 = d0.list().get(0);
            SnapshotInfo on1 = d1.list().get(0);
            assertEquals("1", on0.id());
            assertTrue(on0.vmStateSize() > 32L << 10, "the VM state went to the first disk: " + on0.vmStateSize());
            assertEquals(0, on1.vmStateSize(), "only the VM state disk holds VM state");
            assertEquals(Long.parseLong(before[4]), on0.vmClockNanos());
            assertEquals(on0.vmClockNanos(), on1.vmClockNanos());
            assertEquals(TestMachine.NOW.getEpochSecond(), on0.dateSeconds());
            assertEquals(123_456_000, on0.dateNanos(), "QEMU records microseconds");
            assertEquals(-1, on0.icount());
            assertEquals(4 << 20, on0.diskSize());
        }
    }

    @Test
    void aRunningGuestIsResumedAndANamelessSnapshotIsNamedByTheDate() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 1 << 20);
        try (TestMachine m = new TestMachine(16L << 20, 0, d0)) {
            m.guest.start();
            assertEquals("vm-20261203114309", m.snapshots.save(NONE, true, NONE, ALL));
            assertTrue(m.guest.running(), "savevm resumes a guest that ran");
            m.snapshots.load("vm-20261203114309", NONE, ALL);
            assertTrue(m.guest.running(), "loadvm resumes a guest that ran");
        }
    }

    @Test
    void savevmReplacesAnOlderSnapshotOfTheNameAndSnapshotSaveRefusesIt() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 1 << 20);
        try (TestMachine m = new TestMachine(16L << 20, 0, d0)) {
            m.snapshots.save(Optional.of("a"), true, NONE, ALL);
            m.snapshots.save(Optional.of("b"), true, NONE, ALL);
            m.snapshots.save(Optional.of("a"), true, NONE, ALL);
            assertEquals(List.of("b:2", "a:3"), d0.list().stream().map(s -> s.name() + ":" + s.id()).toList());
            SnapshotException e = assertThrows(SnapshotException.class,
                    () -> m.snapshots.save(Optional.of("b"), false, Optional.of("disk0"), Optional.of(List.of("disk0"))));
            assertEquals("Snapshot 'b' already exists in one or more devices", e.getMessage());
            // delvm finds by id first, then by name
            m.snapshots.delete("2", ALL);
            assertEquals(List.of("a"), d0.list().stream().map(SnapshotInfo::name).toList());
            // deleting what is not there is no error (QEMU 7.2's bdrv_all_delete_snapshot)
            m.snapshots.delete("nothing", ALL);
        }
    }

    @Test
    void qemusRefusals() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 1 << 20);
        MemoryBlockImage raw = new MemoryBlockImage("raw", 1 << 20);
        MemoryBlockImage rawReadOnly = new MemoryBlockImage("ro", 1 << 20, true);
        try (TestMachine m = new TestMachine(16L << 20, 0, d0, raw)) {
            String msg = "Device 'disk1' is writable but does not support snapshots";
            assertEquals(msg, assertThrows(SnapshotException.class,
                    () -> m.snapshots.save(Optional.of("x"), true, NONE, ALL)).getMessage());
            assertEquals(msg, assertThrows(SnapshotException.class,
                    () -> m.snapshots.load("x", NONE, ALL)).getMessage());
            assertEquals(msg, assertThrows(SnapshotException.class,
                    () -> m.snapshots.delete("x", ALL)).getMessage());
            // only the named devices: disk0 alone can snapshot
            m.snapshots.save(Optional.of("x"), false, Optional.of("disk0"), Optional.of(List.of("disk0")));
            assertEquals("No block device node 'disk9'", assertThrows(SnapshotException.class,
                    () -> m.snapshots.delete("x", Optional.of(List.of("disk9")))).getMessage());
            // every listed device must snapshot before the vmstate device is looked at
            assertEquals(msg, assertThrows(SnapshotException.class, () -> m.snapshots.load("x",
                    Optional.of("disk1"), Optional.of(List.of("disk0", "disk1")))).getMessage());
            assertEquals("vmstate block device 'disk1' does not exist", assertThrows(SnapshotException.class,
                    () -> m.snapshots.load("x", Optional.of("disk1"), Optional.of(List.of("disk0")))).getMessage());
        }
        try (TestMachine m = new TestMachine(16L << 20, 0, new MemorySnapshotImage("d0", 1 << 20), rawReadOnly)) {
            // a read-only raw disk is left out, as QEMU leaves it out
            m.snapshots.save(Optional.of("x"), true, NONE, ALL);
            assertEquals("Snapshot 'y' does not exist in one or more devices", assertThrows(SnapshotException.class,
                    () -> m.snapshots.load("y", NONE, ALL)).getMessage());
            m.settings = m.settings.withCapability("block", true);
            assertEquals("Block migration and snapshots are incompatible", assertThrows(SnapshotException.class,
                    () -> m.snapshots.save(Optional.of("z"), true, NONE, ALL)).getMessage());
        }
        try (TestMachine m = new TestMachine(16L << 20, 0)) {
            assertEquals("no block device can store vmstate for snapshot", assertThrows(SnapshotException.class,
                    () -> m.snapshots.save(Optional.of("x"), true, NONE, ALL)).getMessage());
            assertEquals("no block device can store vmstate for snapshot", assertThrows(SnapshotException.class,
                    () -> m.snapshots.list()).getMessage());
        }
    }

    @Test
    void aDiskOnlySnapshotIsNotLoaded() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 1 << 20);
        try (TestMachine m = new TestMachine(16L << 20, 0, d0)) {
            d0.create("disk-only", 0, 1, 0, 0, 0);
            assertEquals("This is a disk-only snapshot. Revert to it  offline using qemu-img",
                    assertThrows(SnapshotException.class, () -> m.snapshots.load("disk-only", NONE, ALL))
                            .getMessage());
        }
    }

    @Test
    void aFailedCreateLeavesTheSnapshotOnNoDiskAndTheGuestRunning() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 1 << 20);
        MemorySnapshotImage d1 = new MemorySnapshotImage("d1", 1 << 20);
        try (TestMachine m = new TestMachine(16L << 20, 0, d0, d1)) {
            d1.failCreate(true);
            m.guest.start();
            SnapshotException e = assertThrows(SnapshotException.class,
                    () -> m.snapshots.save(Optional.of("s"), true, NONE, ALL));
            assertEquals("Could not create snapshot 's' on 'disk1': memory:d1: injected create failure",
                    e.getMessage());
            assertTrue(m.guest.running());
            assertEquals(List.of(), d0.list());
            assertEquals(List.of(), d1.list());
        }
    }

    @Test
    void infoSnapshotsListsWhatIsOnAllDisksAndThePartialOnes() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 1 << 20);
        MemorySnapshotImage d1 = new MemorySnapshotImage("d1", 1 << 20);
        try (TestMachine m = new TestMachine(16L << 20, 0, d0, d1)) {
            assertFalse(m.snapshots.list().anySnapshot());
            m.snapshots.save(Optional.of("both"), true, NONE, ALL);
            d1.create("only1", 0, 5, 0, 0, -1);
            SnapshotListing l = m.snapshots.list();
            assertTrue(l.anySnapshot());
            assertEquals(List.of("both"), l.onAllDisks().stream().map(SnapshotInfo::name).toList());
            assertEquals(1, l.partial().size());
            assertEquals("disk1", l.partial().get(0).device());
            assertEquals(List.of("only1"), l.partial().get(0).snapshots().stream().map(SnapshotInfo::name).toList());
            assertEquals("Snapshot 'only1' does not exist in one or more devices",
                    assertThrows(SnapshotException.class, () -> m.snapshots.load("only1", NONE, ALL)).getMessage());
        }
    }
}
