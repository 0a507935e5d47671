package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.image.internal.QemuImg;

/**
 * A crash at any write of the image layer leaves an image that {@code qemu-img check} finds without errors (leaked
 * clusters allowed): the write order never lets metadata point at a cluster whose refcount is not yet on disk, nor
 * lower a refcount while something still points at the cluster. Every write of a workload is a crash point once:
 * new data clusters, new L2 tables, new refcount blocks, a growing refcount table, copy-on-write under a snapshot,
 * zero clusters.
 */
class Qcow2CrashTest {
    @TempDir
    Path dir;

    @BeforeEach
    void qemu() {
        QemuImg.assumeInstalled();
    }

    /** The workload: reproducible, touching every kind of metadata update. */
    private static void workload(Qcow2Image img) throws IOException {
        Random r = new Random(3);
        long size = img.size();
        for (int i = 0; i < 40; i++) {
            long off = (long) r.nextInt((int) (size / 512)) * 512 + (i % 3 == 0 ? 7 : 0);
            int len = (int) Math.min(size - off, 1 + r.nextInt(i % 5 == 0 ? 600000 : 3000));
            if (i % 4 == 3) {
                img.writeZeroes(off, len);
            } else {
                byte[] d = new byte[len];
                r.nextBytes(d);
                img.write(off, ByteBuffer.wrap(d));
            }
        }
    }

    /** A workload on an image (its writes are the crash points). */
    @FunctionalInterface
    private interface Workload {
        void run(Qcow2Image img) throws IOException;
    }

    private Workload workload = Qcow2CrashTest::workload;

    private CrashingChannel run(Path pristine, Path work, long crashAt) throws IOException {
        Files.copy(pristine, work, StandardCopyOption.REPLACE_EXISTING);
        CrashingChannel ch = new CrashingChannel(
                FileChannel.open(work, StandardOpenOption.READ, StandardOpenOption.WRITE), crashAt);
        Qcow2Image img = Qcow2Image.open(work, false, (f, fmt) -> {
            throw new IOException("no backing expected");
        }, ch);
        try {
            workload.run(img);
        } catch (IOException e) {
            if (!e.getMessage().contains("injected crash")) {
                throw e;
            }
        } finally {
            ch.close(); // no flush, no clean-up: the process "died"
        }
        return ch;
    }

    private void crashEverywhere(Path pristine, int maxRuns) throws Exception {
        Path work = dir.resolve("work.qcow2");
        CrashingChannel full = run(pristine, work, Long.MAX_VALUE);
        long total = full.writes();
        Images.assertCheckClean(work);
        // evenly spread crash points, plus every write around a header update (a table moving)
        java.util.TreeSet<Long> points = new java.util.TreeSet<>();
        long step = Math.max(1, total / maxRuns);
        for (long p = 1; p <= total; p += step) {
            points.add(p);
        }
        List<Long> positions = full.positions();
        for (int i = 0; i < positions.size(); i++) {
            if (positions.get(i) < 512 && positions.get(i) > 0) {
                headerUpdates++;
                for (long p = Math.max(1, i - 4); p <= Math.min(total, i + 5); p++) {
                    points.add(p);
                }
            }
        }
        for (long crashAt : points) {
            run(pristine, work, crashAt);
            QemuImg.Result r = QemuImg.run(QemuImg.QEMU_IMG, "check", "-f", "qcow2", work.toString());
            // exit 0: clean; 3: leaked clusters only; 2 (corruptions) or 1 are failures
            assertTrue(r.exit() == 0 || r.exit() == 3,
                    "crash at write " + crashAt + " of " + total + ": qemu-img check exited " + r.exit() + "\n"
                            + r.out() + r.err());
        }
    }

    /** Header writes (a refcount table or L1 table switched) seen in the last full run. */
    private int headerUpdates;

    @Test
    void crashesLeakAtWorstWhileTablesAndRefcountBlocksAreAllocated() throws Exception {
        // 512-byte clusters: many L2 tables and refcount blocks, and the refcount table grows
        Path pristine = dir.resolve("small.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", pristine.toString(),
                "24M");
        workload = img -> {
            byte[] d = new byte[9 << 20]; // more than one refcount table cluster covers (8 MiB): the table moves
            new Random(6).nextBytes(d);
            img.write(1 << 20, ByteBuffer.wrap(d));
            workload(img);
        };
        crashEverywhere(pristine, 30);
        assertTrue(headerUpdates > 0, "the refcount table moved");
    }

    @Test
    void crashesLeakAtWorstDuringCopyOnWriteUnderASnapshot() throws Exception {
        Path pristine = dir.resolve("snap.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", pristine.toString(), "8M");
        QemuImg.io(pristine, "qcow2", "write -P 0x11 0 8M");
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-c", "s1", pristine.toString());
        crashEverywhere(pristine, 30);
    }

    @Test
    void crashesLeakAtWorstWhileTheL1TableGrowsForTheVmStateArea() throws Exception {
        Path pristine = dir.resolve("vmstate.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", pristine.toString(), "1G");
        workload = img -> {
            img.write(5 << 20, ByteBuffer.wrap(new byte[100000]).put(0, (byte) 1));
            byte[] state = new byte[3 << 20];
            new Random(4).nextBytes(state);
            img.writeVmState(0, ByteBuffer.wrap(state));
            img.writeVmState(700L << 20, ByteBuffer.wrap(state, 0, 70000));
            img.discardVmState(state.length);
            img.write(9 << 20, ByteBuffer.wrap(state, 0, 1 << 20)); // into the freed clusters
        };
        crashEverywhere(pristine, 30);
        assertTrue(headerUpdates > 0, "the L1 table moved");
    }
}
