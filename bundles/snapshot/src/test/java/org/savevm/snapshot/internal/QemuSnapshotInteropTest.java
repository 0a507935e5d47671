package org.savevm.snapshot.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.api.machine.RamBlock;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.snapshot.SnapshotException;
import org.savevm.snapshot.SnapshotListing;

/**
 * Snapshots both ways with real QEMU 7.2: qemu-img lists ours and checks the image clean, QEMU's HMP loadvm loads
 * ours and its guest RAM (pmemsave) equals what we saved, and a snapshot QEMU's HMP savevm took is listed by our
 * info snapshots and its RAM loaded by our loadvm. Skipped without qemu-system-x86_64 and qemu-img.
 */
class QemuSnapshotInteropTest {
    private static final long RAM = 32L << 20;
    private static final long LOW = 1 << 20;

    @TempDir
    Path dir;

    private final ImageServiceComponent images = new ImageServiceComponent();

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    private static byte[] pcRam(TestMachine m) {
        RamBlock pc = m.machine.ramBlock("pc.ram").orElseThrow();
        byte[] b = new byte[(int) (RAM - LOW)];
        pc.read(LOW, b, 0, b.length);
        return b;
    }

    @Test
    void qemuLoadsOurSnapshot() throws Exception {
        assumeTrue(QemuHmp.installed(), "qemu-system-x86_64 / qemu-img (QEMU 7.2) not installed");
        Path disk = dir.resolve("ours.qcow2");
        byte[] data = new byte[3 << 20];
        new Random(5).nextBytes(data);
        byte[] saved;
        SnapshotInfo info;
        // the machine closes its drives' images
        BlockImage img = images.create(disk, ImageFormat.QCOW2, 16L << 20, Optional.empty(), Optional.empty());
        try (TestMachine m = new TestMachine(RAM, 0, Clock.systemDefaultZone(), false, img)) {
            img.write(1 << 20, ByteBuffer.wrap(data));
            m.runGuest(4L << 20);
            m.snapshots.save(Optional.of("ours"), true, Optional.empty(), Optional.empty());
            saved = pcRam(m);
            assertTrue(m.machine.workload().bytesWritten() > 0 && !java.util.Arrays.equals(saved,
                    new byte[saved.length]), "the guest wrote nothing into pc.ram");
            info = m.snapshots.list().onAllDisks().get(0);
            // the guest and its disk move on; the snapshot keeps the instant
            m.runGuest(1L << 20);
            img.write(0, ByteBuffer.wrap(data, 0, 1 << 20));
        }
        run("qemu-img", "check", disk.toString());
        String list = run("qemu-img", "snapshot", "-l", disk.toString());
        String expected = new SnapshotDump(ZoneId.systemDefault()).line(info, "1").replaceAll(" +$", "");
        assertTrue(list.contains(expected), "qemu-img snapshot -l:\n" + list + "\nexpected line:\n" + expected);

        try (QemuHmp qemu = new QemuHmp(dir, "32M", disk)) {
            String listed = qemu.hmp("info snapshots");
            assertTrue(listed.contains("ours"), listed);
            assertEquals("", qemu.hmp("loadvm ours"), "QEMU's loadvm printed an error");
            Path dump = dir.resolve("qemu-ram.bin");
            qemu.pmemsave(LOW, RAM - LOW, dump);
            assertArrayEquals(saved, Files.readAllBytes(dump), "QEMU's guest RAM after loadvm differs from ours");
            qemu.hmp("savevm after");
        }
        run("qemu-img", "check", disk.toString());
        // QEMU reverted the disk to the snapshot: the data written after it is gone
        byte[] view = java.nio.file.Files.readAllBytes(convert(disk));
        assertArrayEquals(data, java.util.Arrays.copyOfRange(view, 1 << 20, 4 << 20));
        assertArrayEquals(new byte[1 << 20], java.util.Arrays.copyOfRange(view, 0, 1 << 20));
    }

    @Test
    void qemuLoadsOurLiveSnapshotTakenWhileTheGuestWrote() throws Exception {
        assumeTrue(QemuHmp.installed(), "qemu-system-x86_64 / qemu-img (QEMU 7.2) not installed");
        Path disk = dir.resolve("live.qcow2");
        byte[][] atInstant = new byte[1][];
        org.savevm.snapshot.LiveSave r;
        BlockImage img = images.create(disk, ImageFormat.QCOW2, 16L << 20, Optional.empty(), Optional.empty());
        try (TestMachine m = new TestMachine(RAM, 0, Clock.systemDefaultZone(), false, img)) {
            m.runGuest(4L << 20);
            m.guest.start();
            byte[] later = new byte[2 << 20];
            new Random(12).nextBytes(later);
            m.beforeStart = () -> {
                atInstant[0] = pcRam(m);
                // written after the instant, before the save read these pages
                m.machine.ramBlock("pc.ram").orElseThrow().write(8L << 20, later, 0, later.length);
            };
            r = m.snapshots.saveLive(Optional.of("live"), true, Optional.empty(), Optional.empty());
            m.guest.stop();
            assertTrue(r.copiedPages() >= later.length / 4096, r.toString());
            assertTrue(!java.util.Arrays.equals(atInstant[0], pcRam(m)), "RAM moved on after the instant");
        }
        run("qemu-img", "check", disk.toString());
        try (QemuHmp qemu = new QemuHmp(dir, "32M", disk)) {
            assertEquals("", qemu.hmp("loadvm live"), "QEMU's loadvm printed an error");
            Path dump = dir.resolve("qemu-live-ram.bin");
            qemu.pmemsave(LOW, RAM - LOW, dump);
            assertArrayEquals(atInstant[0], Files.readAllBytes(dump),
                    "QEMU's guest RAM after loadvm differs from ours at the live snapshot's instant");
        }
    }

    private Path convert(Path disk) throws Exception {
        Path raw = dir.resolve(disk.getFileName() + ".raw");
        Files.deleteIfExists(raw);
        run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", disk.toString(), raw.toString());
        return raw;
    }

    @Test
    void weListAndLoadQemusSnapshot() throws Exception {
        assumeTrue(QemuHmp.installed(), "qemu-system-x86_64 / qemu-img (QEMU 7.2) not installed");
        Path disk = dir.resolve("theirs.qcow2");
        run("qemu-img", "create", "-f", "qcow2", disk.toString(), "16M");
        byte[] qemuRam;
        // something recognisable in QEMU's guest RAM: the generic loader device puts 2 MiB of random bytes at 4 MiB
        byte[] blob = new byte[2 << 20];
        new Random(11).nextBytes(blob);
        Path blobFile = dir.resolve("blob.bin");
        Files.write(blobFile, blob);
        try (QemuHmp qemu = new QemuHmp(dir, "32M", disk, "-device", "loader,file=" + blobFile + ",addr=0x400000")) {
            assertEquals("", qemu.hmp("savevm theirs"));
            Path dump = dir.resolve("qemu-ram.bin");
            qemu.pmemsave(LOW, RAM - LOW, dump);
            qemuRam = Files.readAllBytes(dump);
            assertArrayEquals(blob, java.util.Arrays.copyOfRange(qemuRam, (int) (0x400000 - LOW),
                    (int) (0x400000 - LOW) + blob.length));
        }
        BlockImage img = images.open(disk, Optional.empty(), false);
        try (TestMachine m = new TestMachine(RAM, 0, Clock.systemDefaultZone(), false, img)) {
            SnapshotListing l = m.snapshots.list();
            assertEquals(List.of("theirs"), l.onAllDisks().stream().map(SnapshotInfo::name).toList());
            SnapshotInfo sn = l.onAllDisks().get(0);
            assertTrue(sn.vmStateSize() > 0, "QEMU's snapshot has VM state");
            assertEquals(-1, sn.icount());
            String ours = new SnapshotDump(ZoneId.systemDefault()).format(l);
            assertTrue(ours.contains("--        theirs"), ours);
            // our machine has ram and timer handlers only: RAM and timer load, QEMU's other device sections are
            // read past through the snapshot's vmdesc trailer and named in the warnings
            m.runGuest(2L << 20); // our RAM differs from QEMU's before the load
            byte[] before = pcRam(m);
            List<String> warnings = m.snapshots.load("theirs", Optional.empty(), Optional.empty());
            String w = String.join("\n", warnings);
            System.out.println("loadvm of QEMU's snapshot: " + w);
            for (String section : new String[] {"'cpu' instance 0", "'apic' instance 0", "'mc146818rtc' instance 0",
                "'0000:00:01.0/PIIX3' instance 0"}) {
                assertTrue(w.contains(section), "not named as skipped: " + section + " in " + w);
            }
            assertTrue(w.contains("not loaded, no handler here for"), w);
            assertTrue(!w.contains("'timer'") && !w.contains("'ram'"), "timer and ram were loaded: " + w);
            assertArrayEquals(qemuRam, pcRam(m), "our RAM after loading QEMU's snapshot differs from QEMU's");
            assertTrue(!java.util.Arrays.equals(before, qemuRam));
        }
        run("qemu-img", "check", disk.toString());
    }
}
