package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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

    private long run(Path pristine, Path work, long crashAt) throws IOException {
        Files.copy(pristine, work, StandardCopyOption.REPLACE_EXISTING);
        CrashingChannel ch = new CrashingChannel(
                FileChannel.open(work, StandardOpenOption.READ, StandardOpenOption.WRITE), crashAt);
        Qcow2Image img = Qcow2Image.open(work, false, (f, fmt) -> {
            throw new IOException("no backing expected");
        }, ch);
        try {
            workload(img);
        } catch (IOException e) {
            if (!e.getMessage().contains("injected crash")) {
                throw e;
            }
        } finally {
            ch.close(); // no flush, no clean-up: the process "died"
        }
        return ch.writes();
    }

    private void crashEverywhere(Path pristine, int maxRuns) throws Exception {
        Path work = dir.resolve("work.qcow2");
        long total = run(pristine, work, Long.MAX_VALUE);
        Images.assertCheckClean(work);
        long step = Math.max(1, total / maxRuns);
        int runs = 0;
        for (long crashAt = 1; crashAt <= total; crashAt += step) {
            run(pristine, work, crashAt);
            QemuImg.Result r = QemuImg.run(QemuImg.QEMU_IMG, "check", "-f", "qcow2", work.toString());
            // exit 0: clean; 3: leaked clusters only; 2 (corruptions) or 1 are failures
            assertTrue(r.exit() == 0 || r.exit() == 3,
                    "crash at write " + crashAt + " of " + total + ": qemu-img check exited " + r.exit() + "\n"
                            + r.out() + r.err());
            runs++;
        }
        assertTrue(runs >= Math.min(total, maxRuns / 2), runs + " crash points");
    }

    @Test
    void crashesLeakAtWorstWhileTablesAndRefcountBlocksAreAllocated() throws Exception {
        // 512-byte clusters: many L2 tables and refcount blocks, and the refcount table grows
        Path pristine = dir.resolve("small.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", pristine.toString(),
                "24M");
        crashEverywhere(pristine, 60);
    }

    @Test
    void crashesLeakAtWorstDuringCopyOnWriteUnderASnapshot() throws Exception {
        Path pristine = dir.resolve("snap.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", pristine.toString(), "8M");
        QemuImg.io(pristine, "qcow2", "write -P 0x11 0 8M");
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-c", "s1", pristine.toString());
        crashEverywhere(pristine, 60);
    }
}
