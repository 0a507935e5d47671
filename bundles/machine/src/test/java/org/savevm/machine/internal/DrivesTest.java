package org.savevm.machine.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.CacheMode;
import org.savevm.api.block.DriveSpec;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.testing.ManualClock;
import org.savevm.testing.MemoryBlockImage;

class DrivesTest {
    @Test
    void driveSpecsParseLikeQemuOptions() {
        DriveSpec d = DriveSpec.parse("a.qcow2", 0);
        assertEquals(Path.of("a.qcow2"), d.file());
        assertEquals(Optional.empty(), d.format());
        assertEquals("disk0", d.id());
        assertFalse(d.readOnly());
        assertEquals(CacheMode.WRITEBACK, d.cache());

        d = DriveSpec.parse("/x/b,,c.img,format=raw,id=hd1,readonly=on", 3);
        assertEquals(Path.of("/x/b,c.img"), d.file());
        assertEquals(Optional.of(ImageFormat.RAW), d.format());
        assertEquals("hd1", d.id());
        assertTrue(d.readOnly());

        d = DriveSpec.parse("format=qcow2,file=c.qcow2", 2);
        assertEquals(Path.of("c.qcow2"), d.file());
        assertEquals("disk2", d.id());

        for (CacheMode m : CacheMode.values()) {
            assertEquals(m, DriveSpec.parse("d.raw,cache=" + m.qemuName(), 0).cache());
        }

        List<DriveSpec> all = DriveSpec.parseAll(List.of("a.raw", "b.raw"));
        assertEquals(List.of("disk0", "disk1"), all.stream().map(DriveSpec::id).toList());
    }

    @Test
    void badDriveSpecsAreRefusedNamingWhat() {
        assertTrue(msg(() -> DriveSpec.parse("a,format=vmdk", 0)).contains("unknown image format 'vmdk'"));
        assertTrue(msg(() -> DriveSpec.parse("a,aio=native", 0)).contains("unknown option 'aio'"));
        assertTrue(msg(() -> DriveSpec.parse("a,cache=off", 0)).contains("unknown cache mode 'off' (writeback, none,"));
        assertTrue(msg(() -> DriveSpec.parse("format=raw", 0)).contains("no file"));
        assertTrue(msg(() -> DriveSpec.parse("a,id=0bad", 0)).contains("must start with a letter"));
        assertTrue(msg(() -> DriveSpec.parse("a,id=b\u001b[1m", 0)).contains("may hold only"));
        assertTrue(msg(() -> DriveSpec.parse("a,id=" + "x".repeat(256), 0)).contains("1..255"));
        assertTrue(msg(() -> DriveSpec.parseAll(List.of("a,id=d", "b,id=d"))).contains("duplicate drive id 'd'"));
        assertTrue(msg(() -> DriveSpec.parse("a,readonly=maybe", 0)).contains("readonly must be on or off"));
    }

    private static String msg(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void guestWritesMarkTheirChunksAndSyncHandsThemOverOnce() throws IOException {
        MemoryBlockImage img = new MemoryBlockImage("d", 5 * BlockDrive.CHUNK_SIZE + 512);
        MachineDrive d = new MachineDrive("disk0", img, false);
        assertEquals(6, d.chunks());
        d.write(BlockDrive.CHUNK_SIZE - 2, ByteBuffer.wrap(new byte[] { 1, 2, 3, 4 }));   // chunks 0 and 1
        d.write(5L * BlockDrive.CHUNK_SIZE + 100, ByteBuffer.wrap(new byte[] { 9 }));   // the short last chunk
        long[] bitmap = new long[1];
        assertEquals(3, d.syncDirtyChunks(bitmap));
        assertEquals(0b100011L, bitmap[0]);
        assertEquals(0, d.syncDirtyChunks(bitmap), "the log was cleared by the sync");
        long[] fresh = new long[1];
        d.syncDirtyChunks(fresh);
        assertEquals(0, fresh[0]);
        byte[] c = img.contents();
        assertEquals(1, c[BlockDrive.CHUNK_SIZE - 2]);
        assertEquals(4, c[BlockDrive.CHUNK_SIZE + 1]);
        assertEquals(9, c[5 * BlockDrive.CHUNK_SIZE + 100]);
    }

    @Test
    void writesOutsideTheDiskOrToAReadOnlyDriveFail() {
        MachineDrive d = new MachineDrive("disk0", new MemoryBlockImage("d", 4096), false);
        IOException e = assertThrows(IOException.class, () -> d.write(4095, ByteBuffer.allocate(2)));
        assertTrue(e.getMessage().contains("drive 'disk0'"), e.getMessage());
        MachineDrive ro = new MachineDrive("cd", new MemoryBlockImage("c", 4096), true);
        assertTrue(assertThrows(IOException.class, () -> ro.write(0, ByteBuffer.allocate(1))).getMessage()
                .contains("read-only"));
    }

    @Test
    void aHeldDriveCannotBeDetachedOrResized() throws Exception {
        MachineDrive d = new MachineDrive("disk0", new MemoryBlockImage("d", 4096), false);
        AutoCloseable h = d.hold("migration");
        assertEquals(List.of("migration"), d.holders());
        String m = assertThrows(IllegalStateException.class, d::detach).getMessage();
        assertEquals("Node 'disk0' is busy: block device is in use by migration", m);
        assertEquals(m, assertThrows(IllegalStateException.class, () -> d.resize(8192)).getMessage());
        h.close();
        h.close();
        assertEquals(List.of(), d.holders());
        // not held: the image decides (the in-memory test image cannot resize)
        assertTrue(assertThrows(IOException.class, () -> d.resize(8192)).getMessage().contains("not supported"));
        d.detach();
        assertThrows(IllegalStateException.class, () -> d.hold("late"));
    }

    @Test
    void theGuestWritesItsDisksAtTheConfiguredRateAndStopsWhenPaused() throws IOException {
        MemoryBlockImage img = new MemoryBlockImage("d", 64 * BlockDrive.CHUNK_SIZE);
        MachineDrive d = new MachineDrive("disk0", img, false);
        ManualClock clock = new ManualClock(0);
        SimulatedMachine ramOnly = new SimulatedMachine("pc-i440fx-7.2", 4L << 20);
        try {
            WorkloadGenerator g = new WorkloadGenerator(ramOnly.ramBlocks(), List.of(d), 4L << 20,
                    new WorkloadSpec(0, 64, 1.0, 0, 0, 7), clock::nowNs);
            g.resume();
            for (int i = 0; i < 50; i++) {                 // 0.5 s of guest time at 4 MiB/s
                clock.advance(10_000_000L);
                g.writeDue();
            }
            assertEquals(2L << 20, g.diskBytesWritten());
            assertEquals(2L << 20, img.bytesWritten());
            long[] dirty = new long[1];
            assertNotEquals(0, d.syncDirtyChunks(dirty));
            g.pause();
            clock.advance(10_000_000L);
            g.writeDue();
            assertEquals(2L << 20, g.diskBytesWritten(), "a paused guest does not write");
        } finally {
            ramOnly.close();
        }
    }

    @Test
    void aFailingDiskWriteStopsGuestDiskWritesAndIsReported() throws IOException {
        MemoryBlockImage img = new MemoryBlockImage("d", 4096);
        MachineDrive d = new MachineDrive("disk0", img, false);
        img.failAt(0);
        ManualClock clock = new ManualClock(0);
        SimulatedMachine ramOnly = new SimulatedMachine("pc-i440fx-7.2", 4L << 20);
        try {
            WorkloadGenerator g = new WorkloadGenerator(ramOnly.ramBlocks(), List.of(d), 1L << 20,
                    new WorkloadSpec(0, 64, 1.0, 0, 0, 7), clock::nowNs);
            g.resume();
            clock.advance(10_000_000L);
            g.writeDue();
            assertTrue(g.diskError().isPresent());
            assertTrue(g.diskError().get().getMessage().contains("injected I/O error"));
            assertEquals(0, g.diskBytesWritten());
        } finally {
            ramOnly.close();
        }
    }

    @Test
    void theContentHashSeesEveryByteAndTheName() throws IOException {
        MemoryBlockImage a = new MemoryBlockImage("a", 3 * 4096 + 512);
        MemoryBlockImage b = new MemoryBlockImage("b", 3 * 4096 + 512);
        MachineDrive da = new MachineDrive("disk0", a, false);
        MachineDrive db = new MachineDrive("disk0", b, false);
        assertEquals(da.contentHash(), db.contentHash());
        db.write(3 * 4096 + 511, ByteBuffer.wrap(new byte[] { 1 }));   // the last byte of the short tail
        assertNotEquals(da.contentHash(), db.contentHash());
        da.write(3 * 4096 + 511, ByteBuffer.wrap(new byte[] { 1 }));
        assertEquals(da.contentHash(), db.contentHash());
        assertNotEquals(da.contentHash(), new MachineDrive("disk1", a, false).contentHash());
    }

    @Test
    void driveDelAndBlockResizeCommandsAreRefusedWhileAMigrationHoldsTheDrive() throws Exception {
        MachineDrive d0 = new MachineDrive("disk0", new MemoryBlockImage("a", 4096), false);
        MachineDrive d1 = new MachineDrive("disk1", new MemoryBlockImage("b", 4096), false);
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 1L << 20, WorkloadSpec.DEFAULT,
                List.of(d0, d1), 0)) {
            var del = new org.savevm.machine.internal.commands.DriveCommands.DriveDel(m);
            var resize = new org.savevm.machine.internal.commands.DriveCommands.BlockResize(m);
            java.io.ByteArrayOutputStream errBytes = new java.io.ByteArrayOutputStream();
            java.io.PrintStream err = new java.io.PrintStream(errBytes, true);
            AutoCloseable hold = m.drive("disk0").orElseThrow().hold("migration");
            assertEquals(1, del.run(List.of("disk0"), System.out, err));
            assertEquals(1, resize.run(List.of("disk0", "1M"), System.out, err));
            assertTrue(errBytes.toString().contains("Node 'disk0' is busy: block device is in use by migration"),
                    errBytes.toString());
            assertEquals(2, m.drives().size());
            assertEquals(2, del.run(List.of("nope"), System.out, err));
            assertTrue(errBytes.toString().contains("Device 'nope' not found"));
            hold.close();
            assertEquals(0, del.run(List.of("disk0"), System.out, err));
            assertEquals(List.of("disk1"), m.drives().stream().map(BlockDrive::name).toList());
            assertEquals(2, del.run(List.of(), System.out, err));
        }
    }

    /** info-block prints QEMU's HMP "info block" lines: file, format, read-only, cache mode, backing chain. */
    @Test
    void infoBlockShowsEachDriveAsQemuDoes(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        var images = new org.savevm.image.internal.ImageServiceComponent();
        Path base = tmp.resolve("base.raw");
        Path top = tmp.resolve("top.qcow2");
        Path data = tmp.resolve("data.raw");
        images.create(base, ImageFormat.RAW, 1 << 20, Optional.empty(), Optional.empty()).close();
        images.create(top, ImageFormat.QCOW2, -1, Optional.of(base), Optional.of(ImageFormat.RAW)).close();
        images.create(data, ImageFormat.RAW, 1 << 20, Optional.empty(), Optional.empty()).close();
        List<MachineDrive> drives = MachineComponent.openDrives(DriveSpec.parseAll(List.of(
                top + ",id=sys,cache=writethrough", data + ",id=scratch,cache=unsafe", base + ",id=ro,readonly=on")),
                images);
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 1L << 20, WorkloadSpec.DEFAULT, drives, 0)) {
            var info = new org.savevm.machine.internal.commands.DriveCommands.InfoBlock(m);
            java.io.ByteArrayOutputStream outBytes = new java.io.ByteArrayOutputStream();
            java.io.ByteArrayOutputStream errBytes = new java.io.ByteArrayOutputStream();
            java.io.PrintStream out = new java.io.PrintStream(outBytes, true);
            java.io.PrintStream err = new java.io.PrintStream(errBytes, true);
            assertEquals(0, info.run(List.of(), out, err));
            String nl = System.lineSeparator();
            assertEquals("sys: " + top + " (qcow2)" + nl
                    + "    Cache mode:       writethrough" + nl
                    + "    Backing file:     " + base + " (chain depth: 1)" + nl + nl
                    + "scratch: " + data + " (raw)" + nl
                    + "    Cache mode:       writeback, ignore flushes" + nl + nl
                    + "ro: " + base + " (raw, read-only)" + nl
                    + "    Cache mode:       writeback" + nl + nl, outBytes.toString());
            outBytes.reset();
            assertEquals(0, info.run(List.of("scratch"), out, err));
            assertTrue(outBytes.toString().startsWith("scratch: "), outBytes.toString());
            assertEquals(1, info.run(List.of("nope"), out, err));
            assertTrue(errBytes.toString().contains("Device 'nope' not found"), errBytes.toString());
        }
        assertEquals("writeback, direct", org.savevm.api.block.CacheMode.NONE.describe());
        assertEquals("writethrough, direct", org.savevm.api.block.CacheMode.DIRECTSYNC.describe());
    }

    /**
     * loadvm of a snapshot taken at another size resizes the image under the drive (QEMU's qcow2_snapshot_goto),
     * while the snapshot holds it: the drive's size and dirty log follow, writes up to the new end are taken and
     * marked, past it refused.
     */
    @Test
    void aDriveFollowsItsImageBackToASnapshotsSize(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        var images = new org.savevm.image.internal.ImageServiceComponent();
        Path f = tmp.resolve("d.qcow2");
        long mib = 1 << 20;
        try (MachineDrive d = new MachineDrive("disk0",
                images.create(f, ImageFormat.QCOW2, 4 * mib, Optional.empty(), Optional.empty()), false)) {
            var snapshots = d.image().internalSnapshots().orElseThrow();
            snapshots.create("big", 0, 0, 0, 0, -1);
            d.resize(2 * mib);
            d.write(mib, ByteBuffer.allocate(8));
            assertEquals(2, d.chunks());
            try (AutoCloseable hold = d.hold("snapshot")) {
                snapshots.revert("big");
            }
            assertEquals(4 * mib, d.size());
            assertEquals(4, d.chunks());
            long[] bitmap = new long[1];
            d.syncDirtyChunks(bitmap); // the bit of the write before the revert stays
            assertEquals(0b10, bitmap[0]);
            d.write(3 * mib + 5, ByteBuffer.wrap(new byte[] {7}));
            bitmap[0] = 0;
            assertEquals(1, d.syncDirtyChunks(bitmap));
            assertEquals(0b1000, bitmap[0]);
            assertThrows(IOException.class, () -> d.write(4 * mib, ByteBuffer.allocate(1)));
        }
    }
}
