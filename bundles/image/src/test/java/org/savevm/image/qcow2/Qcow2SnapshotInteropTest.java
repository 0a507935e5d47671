package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.image.internal.QemuImg;

/**
 * Our writes interleaved with QEMU's internal snapshot operations (qemu-img snapshot -c / -d / -a): the copy-on-write
 * of clusters and L2 tables shared with any number of snapshots keeps every snapshot's bytes, the active bytes, and
 * an image {@code qemu-img check} finds clean after every step.
 */
class Qcow2SnapshotInteropTest {
    private static final int SIZE = 8 << 20;

    @TempDir
    Path dir;

    @Test
    void randomWritesBetweenSnapshotCreateDeleteAndApply() throws Exception {
        QemuImg.assumeInstalled();
        ImageServiceComponent service = new ImageServiceComponent();
        Path f = dir.resolve("s.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", f.toString(), "8M");
        byte[] active = new byte[SIZE];
        Map<String, byte[]> snapshots = new LinkedHashMap<>();
        Random r = new Random(12);
        int next = 0;
        int deletes = 0;
        int applies = 0;
        for (int round = 0; round < 14; round++) {
            try (BlockImage img = service.open(f, Optional.empty(), false)) {
                for (int i = 0; i < 12; i++) {
                    int off = r.nextInt(SIZE);
                    int len = Math.min(SIZE - off, 1 + r.nextInt(r.nextBoolean() ? 2000 : 400000));
                    if (r.nextInt(5) == 0) {
                        img.writeZeroes(off, len);
                        Arrays.fill(active, off, off + len, (byte) 0);
                    } else {
                        byte[] d = new byte[len];
                        r.nextBytes(d);
                        img.write(off, ByteBuffer.wrap(d));
                        System.arraycopy(d, 0, active, off, len);
                    }
                }
                assertArrayEquals(active, Images.readAll(img), "round " + round);
            }
            Images.assertCheckClean(f);
            int op = r.nextInt(4);
            List<String> names = new ArrayList<>(snapshots.keySet());
            if (op <= 1 || names.isEmpty()) {
                String name = "s" + next++;
                QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-c", name, f.toString());
                snapshots.put(name, active.clone());
            } else if (op == 2) {
                String name = names.get(r.nextInt(names.size()));
                QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-d", name, f.toString());
                snapshots.remove(name);
                deletes++;
            } else {
                String name = names.get(r.nextInt(names.size()));
                QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-a", name, f.toString());
                active = snapshots.get(name).clone();
                applies++;
            }
            Images.assertCheckClean(f);
        }
        assertTrue(deletes > 0 && applies > 0 && !snapshots.isEmpty(),
                "deletes " + deletes + ", applies " + applies + ", snapshots left " + snapshots.keySet());
        for (Map.Entry<String, byte[]> s : snapshots.entrySet()) {
            QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-a", s.getKey(), f.toString());
            try (BlockImage img = service.open(f, Optional.empty(), true)) {
                assertArrayEquals(s.getValue(), Images.readAll(img), "snapshot " + s.getKey());
            }
        }
        Images.assertCheckClean(f);
    }
}
