package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.InternalSnapshots;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.image.internal.QemuImg;

/**
 * qcow2 internal snapshots against QEMU 7.2's tools: qemu-img snapshot -l lists ours with their sizes, dates and
 * clocks, qemu-img check is clean after every operation, qemu-img's own snapshots are read, and disk contents and VM
 * state come back exactly, also across reopen and after 100 random operations.
 */
class Qcow2SnapshotsTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private final ImageServiceComponent service = new ImageServiceComponent();

    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] readAll(BlockImage img) throws Exception {
        ByteBuffer b = ByteBuffer.allocate((int) img.size());
        img.read(0, b);
        return b.array();
    }

    private static byte[] readVm(InternalSnapshots s, String id, int n) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            int got = s.readVmState(id, b.position(), b.slice());
            if (got == 0) {
                break;
            }
            b.position(b.position() + got);
        }
        return b.array();
    }

    /**
     * A snapshot taken at another disk size: reverting gives the image the snapshot's size back, as QEMU's
     * qcow2_snapshot_goto does. QEMU makes the same image the same way (qemu-img resize, snapshot -a): the two
     * images compare equal at each revert, both check clean and report the same virtual size.
     */
    @Test
    void revertToASnapshotOfAnotherSizeResizesTheImageAsQemuDoes() throws Exception {
        QemuImg.assumeInstalled();
        Path ours = dir.resolve("ours.qcow2");
        Path theirs = dir.resolve("theirs.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", theirs.toString(), "8M");
        byte[] a = random(11, 3 * MIB);
        byte[] b = random(12, 2 * MIB);
        try (BlockImage img = service.create(ours, ImageFormat.QCOW2, 8 * MIB, Optional.empty(), Optional.empty())) {
            InternalSnapshots s = img.internalSnapshots().orElseThrow();
            img.write(MIB, ByteBuffer.wrap(a));
            s.create("small", 0, 1796298189L, 0, 0, -1);
            img.resize(20 * MIB);
            img.write(15 * MIB, ByteBuffer.wrap(b));
            s.create("big", 0, 1796298190L, 0, 0, -1);
            img.resize(4 * MIB);

            s.revert("small");
            assertEquals(8 * MIB, img.size());
            byte[] small = new byte[8 * MIB];
            System.arraycopy(a, 0, small, MIB, a.length);
            assertArrayEquals(small, readAll(img));
            img.flush();
            Images.assertCheckClean(ours);

            s.revert("big");
            assertEquals(20 * MIB, img.size());
            byte[] big = new byte[20 * MIB];
            System.arraycopy(a, 0, big, MIB, a.length);
            System.arraycopy(b, 0, big, 15 * MIB, b.length);
            assertArrayEquals(big, readAll(img));
        }
        // QEMU, the same steps
        Path aFile = java.nio.file.Files.write(dir.resolve("a.bin"), a);
        Path bFile = java.nio.file.Files.write(dir.resolve("b.bin"), b);
        QemuImg.io(theirs, "qcow2", "write -s " + aFile + " 1M 3M");
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-c", "small", theirs.toString());
        QemuImg.ok(QemuImg.QEMU_IMG, "resize", "-q", theirs.toString(), "20M");
        QemuImg.io(theirs, "qcow2", "write -s " + bFile + " 15M 2M");
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-c", "big", theirs.toString());
        QemuImg.ok(QemuImg.QEMU_IMG, "resize", "-q", "--shrink", theirs.toString(), "4M");
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-a", "small", theirs.toString());
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-a", "big", theirs.toString());
        Images.assertCheckClean(ours);
        Images.assertCheckClean(theirs);
        Images.assertQemuCompareEqual(ours, "qcow2", theirs, "qcow2");
        assertTrue(QemuImg.ok(QemuImg.QEMU_IMG, "info", ours.toString()).contains("virtual size: 20 MiB"));
        // and QEMU reverts ours to the small one
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-a", "small", ours.toString());
        assertTrue(QemuImg.ok(QemuImg.QEMU_IMG, "info", ours.toString()).contains("virtual size: 8 MiB"));
        Images.assertCheckClean(ours);
    }

    @Test
    void createListRevertDeleteAsQemuImgSeesThem() throws Exception {
        assumeTrue(QemuImg.installed(QemuImg.QEMU_IMG), "qemu-img (QEMU 7.2) not installed");
        Path f = dir.resolve("s.qcow2");
        byte[] first = random(1, 3 * MIB);
        byte[] second = random(2, 2 * MIB);
        byte[] vm = random(3, MIB + 4321);
        try (BlockImage img = service.create(f, ImageFormat.QCOW2, 16 * MIB, Optional.empty(), Optional.empty())) {
            InternalSnapshots s = img.internalSnapshots().orElseThrow();
            img.write(MIB, ByteBuffer.wrap(first));
            s.writeVmState(0, ByteBuffer.wrap(vm));
            SnapshotInfo a = s.create("first", vm.length, 1796298189L, 123_000, 3_723_456_000_000L, -1);
            assertEquals(new SnapshotInfo("1", "first", vm.length, 1796298189L, 123_000, 3_723_456_000_000L, -1,
                    16 * MIB), a);
            img.write(2 * MIB, ByteBuffer.wrap(second));
            s.create("disk-only", 0, 1796298190L, 0, 5_000_000_000L, -1);
            img.flush();
            Images.assertCheckClean(f);
            String list = QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-U", "-l", f.toString());
            assertTrue(list.contains("1         first               1 MiB"), list);
            assertTrue(list.contains("01:02:03.456"), list);
            assertTrue(list.contains("2         disk-only             0 B"), list);
            assertTrue(list.contains("00:00:05.000"), list);
            assertArrayEquals(vm, readVm(s, "first", vm.length));

            byte[] now = readAll(img);
            s.revert("first");
            byte[] back = readAll(img);
            assertArrayEquals(first, java.util.Arrays.copyOfRange(back, MIB, 4 * MIB));
            assertArrayEquals(new byte[MIB], java.util.Arrays.copyOfRange(back, 0, MIB));
            img.flush();
            Images.assertCheckClean(f);
            // writes after the revert copy shared clusters: the snapshots keep their contents
            img.write(MIB, ByteBuffer.wrap(second));
            s.revert("2");
            assertArrayEquals(now, readAll(img));
            s.delete("first");
            img.flush();
            Images.assertCheckClean(f);
            assertEquals(List.of("disk-only"), s.list().stream().map(SnapshotInfo::name).toList());
            assertArrayEquals(now, readAll(img));
        }
        // qemu-img reads what we wrote, and we read what it writes
        assertEquals(0, QemuImg.run(QemuImg.QEMU_IMG, "snapshot", "-c", "theirs", f.toString()).exit());
        try (BlockImage img = service.open(f, Optional.empty(), false)) {
            InternalSnapshots s = img.internalSnapshots().orElseThrow();
            List<SnapshotInfo> l = s.list();
            assertEquals(List.of("disk-only", "theirs"), l.stream().map(SnapshotInfo::name).toList());
            assertEquals("3", l.get(1).id());
            s.delete("disk-only");
            s.revert("theirs");
        }
        Images.assertCheckClean(f);
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-d", "theirs", f.toString());
        Images.assertCheckClean(f);
    }

    @Test
    void aHundredRandomOperationsKeepContentsAndQemuImgCheckClean() throws Exception {
        assumeTrue(QemuImg.installed(QemuImg.QEMU_IMG), "qemu-img (QEMU 7.2) not installed");
        Path f = dir.resolve("r.qcow2");
        int size = 4 * MIB;
        Random rnd = new Random(42);
        record Saved(String name, byte[] disk, byte[] vm) {
        }
        List<Saved> saved = new ArrayList<>();
        try (BlockImage img = service.create(f, ImageFormat.QCOW2, size, Optional.empty(), Optional.empty())) {
            InternalSnapshots s = img.internalSnapshots().orElseThrow();
            for (int op = 0; op < 100; op++) {
                // the guest writes somewhere
                byte[] w = random(rnd.nextLong(), 1 + rnd.nextInt(200_000));
                img.write(rnd.nextInt(size - w.length), ByteBuffer.wrap(w));
                int what = rnd.nextInt(3);
                if (what == 0 || saved.isEmpty()) {
                    byte[] vm = random(rnd.nextLong(), rnd.nextInt(300_000));
                    s.writeVmState(0, ByteBuffer.wrap(vm));
                    String name = "s" + op;
                    s.create(name, vm.length, 1796298189L + op, 0, op * 1_000_000L, -1);
                    saved.add(new Saved(name, readAll(img), vm));
                } else if (what == 1) {
                    Saved x = saved.remove(rnd.nextInt(saved.size()));
                    s.delete(x.name());
                } else {
                    Saved x = saved.get(rnd.nextInt(saved.size()));
                    s.revert(x.name());
                    assertArrayEquals(x.disk(), readAll(img), "revert to " + x.name() + " at op " + op);
                }
                if (op % 10 == 9) {
                    img.flush();
                    Images.assertCheckClean(f);
                }
            }
            assertEquals(saved.stream().map(Saved::name).toList(), s.list().stream().map(SnapshotInfo::name).toList());
            for (Saved x : saved) {
                assertArrayEquals(x.vm(), readVm(s, x.name(), x.vm().length), x.name());
            }
        }
        Images.assertCheckClean(f);
        try (BlockImage img = service.open(f, Optional.empty(), false)) {
            InternalSnapshots s = img.internalSnapshots().orElseThrow();
            for (Saved x : saved) {
                s.revert(x.name());
                assertArrayEquals(x.disk(), readAll(img), x.name());
                assertArrayEquals(x.vm(), readVm(s, x.name(), x.vm().length), x.name());
            }
        }
        Images.assertCheckClean(f);
    }
}
