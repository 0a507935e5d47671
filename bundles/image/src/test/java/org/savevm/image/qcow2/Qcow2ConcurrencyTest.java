package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.image.internal.QemuImg;

/** The guest, a migration and a snapshot may use one image at once: writers on disjoint ranges plus readers. */
class Qcow2ConcurrencyTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void concurrentWritersAndReadersKeepTheImageConsistent() throws Exception {
        ImageServiceComponent service = new ImageServiceComponent();
        Path f = dir.resolve("c.qcow2");
        int writers = 4;
        int region = 4 * MIB;
        byte[] expect = new byte[writers * region];
        ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
        try (BlockImage img = service.create(f, ImageFormat.QCOW2, expect.length, Optional.empty(),
                Optional.empty())) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int base = w * region;
                long seed = w;
                jobs.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    for (int i = 0; i < 200; i++) {
                        int off = r.nextInt(region - 70000);
                        byte[] d = new byte[1 + r.nextInt(70000)];
                        r.nextBytes(d);
                        img.write(base + off, ByteBuffer.wrap(d));
                        synchronized (expect) {
                            System.arraycopy(d, 0, expect, base + off, d.length);
                        }
                    }
                    return null;
                }));
            }
            jobs.add(pool.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    img.read((i * 77777L) % (expect.length - MIB), ByteBuffer.allocate(MIB));
                    img.blockStatus((i * 55555L) % expect.length, expect.length);
                }
                return null;
            }));
            for (Future<?> j : jobs) {
                j.get();
            }
            assertArrayEquals(expect, Images.readAll(img));
        } finally {
            pool.shutdownNow();
        }
        if (QemuImg.installed(QemuImg.QEMU_IMG)) {
            Images.assertCheckClean(f);
            assertArrayEquals(expect, Images.qemuRead(f, "qcow2", dir));
        }
    }
}
