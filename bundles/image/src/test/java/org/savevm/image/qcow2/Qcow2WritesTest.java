package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.image.internal.QemuImg;

/**
 * Images we create and write are judged by QEMU 7.2: {@code qemu-img check} finds no error and no leak,
 * {@code qemu-img compare} finds them equal to a raw file written with the same content, and QEMU reads our bytes.
 */
class Qcow2WritesTest {
    private static final int MIB = 1 << 20;
    private static final int CLUSTER = 1 << 16;
    private final ImageServiceComponent service = new ImageServiceComponent();

    @TempDir
    Path dir;

    @BeforeEach
    void qemu() {
        QemuImg.assumeInstalled();
    }

    /** An image and a raw mirror that receive the same writes. */
    private static final class Mirror implements AutoCloseable {
        final BlockImage image;
        final BlockImage raw;
        final Random random;

        Mirror(BlockImage image, BlockImage raw, long seed) {
            this.image = image;
            this.raw = raw;
            this.random = new Random(seed);
        }

        void write(long off, int len) throws IOException {
            byte[] d = new byte[len];
            random.nextBytes(d);
            image.write(off, ByteBuffer.wrap(d));
            raw.write(off, ByteBuffer.wrap(d));
        }

        void zero(long off, long len) throws IOException {
            image.writeZeroes(off, len);
            raw.writeZeroes(off, len);
        }

        void assertSame() throws IOException {
            assertArrayEquals(Images.readAll(raw), Images.readAll(image), "our read of " + image.path());
        }

        @Override
        public void close() throws IOException {
            image.close();
            raw.close();
        }
    }

    private Mirror mirror(BlockImage image, long seed) throws IOException {
        Path rawFile = dir.resolve(image.path().getFileName() + ".mirror.raw");
        BlockImage raw = service.create(rawFile, ImageFormat.RAW, image.size(), Optional.empty(), Optional.empty());
        if (image.backing().isPresent()) {
            ByteBuffer all = ByteBuffer.allocate((int) image.size());
            image.read(0, all);
            all.flip();
            raw.write(0, all);
        }
        return new Mirror(image, raw, seed);
    }

    private void judge(Mirror m) throws Exception {
        m.assertSame();
        m.image.flush();
        m.raw.flush();
        Images.assertCheckClean(m.image.path());
        Images.assertQemuCompareEqual(m.image.path(), "qcow2", m.raw.path(), "raw");
    }

    @Test
    void createdImageLooksLikeQemuImgCreate() throws Exception {
        Path f = dir.resolve("new.qcow2");
        service.create(f, ImageFormat.QCOW2, 3L << 30, Optional.empty(), Optional.empty()).close();
        Images.assertCheckClean(f);
        String info = QemuImg.ok(QemuImg.QEMU_IMG, "info", "--output=json", f.toString());
        assertTrue(info.contains("\"virtual-size\": 3221225472"), info);
        assertTrue(info.contains("\"cluster-size\": 65536"), info);
        assertTrue(info.contains("\"compat\": \"1.1\""), info);
        assertTrue(info.contains("\"refcount-bits\": 16"), info);
        assertTrue(info.contains("\"lazy-refcounts\": false"), info);
        assertTrue(info.contains("\"corrupt\": false"), info);
        // QEMU writes into it and we read that back
        QemuImg.io(f, "qcow2", "write -P 0x42 2G 100k");
        try (BlockImage img = service.open(f, Optional.empty(), true)) {
            ByteBuffer b = ByteBuffer.allocate(100 << 10);
            img.read(2L << 30, b);
            byte[] expect = new byte[100 << 10];
            Arrays.fill(expect, (byte) 0x42);
            assertArrayEquals(expect, b.array());
        }
    }

    @Test
    void unalignedWritesZeroesAndRewritesPassCheckAndCompare() throws Exception {
        Path f = dir.resolve("w.qcow2");
        try (Mirror m = mirror(service.create(f, ImageFormat.QCOW2, 24 * MIB, Optional.empty(), Optional.empty()),
                1)) {
            m.write(0, 512);
            m.write(1000, 200000); // partial first and last cluster
            m.write(5 * MIB - 7, 3 * CLUSTER + 11);
            m.write(8 * MIB, 4 * MIB); // whole clusters
            m.write(8 * MIB + 3 * CLUSTER + 5, 100); // in place into an allocated cluster
            m.zero(9 * MIB, 2 * MIB + 12345); // whole zero clusters and a partial tail
            m.zero(9 * MIB + 100, 200); // inside a zero cluster: nothing to do
            m.write(10 * MIB - 100, 1000); // a partial write into a zero cluster
            m.zero(20 * MIB, 4 * MIB); // never written: stays unallocated
            m.write(24 * MIB - 512, 512);
            m.zero(0, 64); // partial zeroes into data
            m.assertSame();
            BlockStatus z = m.image.blockStatus(9 * MIB, MIB);
            assertEquals(new BlockStatus(9 * MIB, MIB - CLUSTER, false, true, 0, true), z);
            judge(m);
            assertEquals(Images.qemuMap(f, "qcow2"), Images.ourMap(m.image));
        }
        // reopened, the same bytes
        try (BlockImage img = service.open(f, Optional.empty(), true)) {
            assertArrayEquals(Images.qemuRead(f, "qcow2", dir), Images.readAll(img));
        }
    }

    @Test
    void imageSizeNotAMultipleOfTheClusterSize() throws Exception {
        Path f = dir.resolve("odd.qcow2");
        long size = 5L * MIB + 3 * 512;
        try (Mirror m = mirror(service.create(f, ImageFormat.QCOW2, size, Optional.empty(), Optional.empty()), 9)) {
            m.write(size - 1000, 1000); // the short last cluster, partly
            m.write(5L * MIB - 10, 20);
            judge(m);
            m.zero(5L * MIB, size - 5L * MIB); // the whole short cluster: a zero cluster
            m.zero(size - 700, 700);
            judge(m);
            assertEquals(new BlockStatus(5L * MIB, size - 5L * MIB, false, true, 0, true),
                    m.image.blockStatus(5L * MIB, MIB));
        }
    }

    @Test
    void randomWritesAndZeroesAgainstAMirror() throws Exception {
        Path f = dir.resolve("r.qcow2");
        Random r = new Random(42);
        try (Mirror m = mirror(service.create(f, ImageFormat.QCOW2, 16 * MIB, Optional.empty(), Optional.empty()),
                2)) {
            for (int i = 0; i < 300; i++) {
                long off = r.nextInt(16 * MIB);
                int len = (int) Math.min(16 * MIB - off, 1 + r.nextInt(r.nextBoolean() ? 512 : 300000));
                if (r.nextInt(4) == 0) {
                    m.zero(off, len);
                } else {
                    m.write(off, len);
                }
            }
            judge(m);
        }
    }

    @Test
    void backingFileWithSizeMinusOneAndPartialClustersCopiedFromIt() throws Exception {
        Path base = dir.resolve("base.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", base.toString(), "6M");
        QemuImg.io(base, "qcow2", "write -P 0xbb 0 6M");
        Path top = dir.resolve("top.qcow2");
        try (Mirror m = mirror(service.create(top, ImageFormat.QCOW2, -1, Optional.of(Path.of("base.qcow2")),
                Optional.of(ImageFormat.QCOW2)), 3)) {
            assertEquals(6L * MIB, m.image.size());
            m.write(100, 1000); // the rest of the cluster comes from the backing file
            m.write(2 * MIB + 3, 2 * CLUSTER);
            m.zero(4 * MIB, MIB); // zero clusters hide the backing file
            m.zero(5 * MIB + 10, 20);
            judge(m);
            assertEquals(Images.qemuMap(top, "qcow2"), Images.ourMap(m.image));
            BlockStatus below = m.image.blockStatus(MIB, MIB);
            assertEquals(new BlockStatus(MIB, MIB, true, false, 1, false), below);
        }
        String info = QemuImg.ok(QemuImg.QEMU_IMG, "info", "--output=json", top.toString());
        assertTrue(info.contains("\"backing-filename\": \"base.qcow2\""), info);
        assertTrue(info.contains("\"backing-filename-format\": \"qcow2\""), info);
    }

    @Test
    void writesToClustersSharedWithAnInternalSnapshotAreCopiedOnWrite() throws Exception {
        Path f = dir.resolve("snap.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", f.toString(), "8M");
        QemuImg.io(f, "qcow2", "write -P 0x11 0 3M", "write -P 0x22 5M 64k");
        byte[] before = Images.qemuRead(f, "qcow2", dir);
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-c", "s1", f.toString());
        try (Mirror m = mirror(service.open(f, Optional.empty(), false), 4)) {
            m.raw.write(0, ByteBuffer.wrap(before));
            m.write(10, 100); // partial write to a shared cluster: copy, then write
            m.write(MIB, MIB); // whole shared clusters
            m.zero(2 * MIB, CLUSTER); // zero flag over a shared cluster
            m.write(5 * MIB + 100, 5);
            m.write(7 * MIB, 1000); // unallocated
            m.write(10, 100); // now owned alone: in place
            judge(m);
        }
        // the snapshot still holds the old bytes
        QemuImg.ok(QemuImg.QEMU_IMG, "snapshot", "-a", "s1", f.toString());
        Images.assertCheckClean(f);
        assertArrayEquals(before, Images.qemuRead(f, "qcow2", dir));
    }

    @Test
    void writesOverCompressedClusters() throws Exception {
        Path raw = dir.resolve("src.raw");
        byte[] data = new byte[2 * MIB];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i % 251 < 100 ? i : 0);
        }
        Files.write(raw, data);
        Path c = dir.resolve("c.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "convert", "-c", "-f", "raw", "-O", "qcow2", raw.toString(), c.toString());
        try (Mirror m = mirror(service.open(c, Optional.empty(), false), 5)) {
            m.raw.write(0, ByteBuffer.wrap(data));
            m.write(70000, 10);
            m.write(MIB, CLUSTER);
            m.zero(MIB + 2 * CLUSTER, CLUSTER);
            judge(m);
        }
    }

    @Test
    void refcountTableGrowsWithItsOwnRefcounts() throws Exception {
        // 512-byte clusters: a refcount block covers 128 KiB, a refcount table cluster 8 MiB of file
        Path f = dir.resolve("small.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", f.toString(), "40M");
        long tableBefore;
        try (Mirror m = mirror(service.open(f, Optional.empty(), false), 6)) {
            tableBefore = ((Qcow2Image) m.image).header().refcountTableOffset;
            for (int i = 0; i < 20; i++) {
                m.write(i * 2L * MIB, MIB + 300);
            }
            judge(m);
        }
        String info = QemuImg.ok(QemuImg.QEMU_IMG, "check", "--output=json", f.toString());
        assertTrue(info.contains("\"check-errors\": 0"), info);
        try (Qcow2Image img = (Qcow2Image) service.open(f, Optional.empty(), true)) {
            assertTrue(img.header().refcountTableOffset != tableBefore, "the refcount table moved");
            assertTrue(img.header().refcountTableClusters > 1, "the refcount table grew");
        }
    }

    @Test
    void otherRefcountWidthsAndVersion2() throws Exception {
        for (String opts : new String[] { "refcount_bits=1", "refcount_bits=8", "refcount_bits=64",
                "compat=0.10" }) {
            Path f = dir.resolve("o-" + opts.replace('=', '-') + ".qcow2");
            QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", "-o", opts, f.toString(), "4M");
            try (Mirror m = mirror(service.open(f, Optional.empty(), false), 7)) {
                m.write(100, 200000);
                m.zero(2 * CLUSTER, 3 * CLUSTER);
                m.write(3 * MIB, MIB);
                judge(m);
            }
        }
    }

    @Test
    void wholeClusterMegabyteWritesLikeBlockMigration() throws Exception {
        Path f = dir.resolve("big.qcow2");
        try (Mirror m = mirror(service.create(f, ImageFormat.QCOW2, 1L << 30, Optional.empty(), Optional.empty()),
                8)) {
            // a sparse walk over the whole 1 GiB: both L2 tables, a chunk that straddles their boundary
            for (long off = 0; off < (1L << 30); off += 37 * MIB) {
                m.write(off, MIB);
            }
            m.write((512L * MIB) - MIB / 2, MIB);
            m.zero(74 * MIB, MIB);
            m.image.flush();
            Images.assertCheckClean(f);
            Images.assertQemuCompareEqual(f, "qcow2", m.raw.path(), "raw");
        }
    }

    @Test
    void qemuWritesIntoAnImageWeWroteAndWeReadIt() throws Exception {
        Path f = dir.resolve("both.qcow2");
        try (BlockImage img = service.create(f, ImageFormat.QCOW2, 4 * MIB, Optional.empty(), Optional.empty())) {
            img.write(0, ByteBuffer.wrap(new byte[] { 1, 2, 3 }));
        }
        QemuImg.io(f, "qcow2", "write -P 0x77 1M 64k", "write -z 0 64k");
        try (BlockImage img = service.open(f, Optional.empty(), false)) {
            assertArrayEquals(Images.qemuRead(f, "qcow2", dir), Images.readAll(img));
            img.write(MIB + 10, ByteBuffer.wrap(new byte[] { 9 }));
        }
        Images.assertCheckClean(f);
        byte[] q = Images.qemuRead(f, "qcow2", dir);
        assertEquals(9, q[MIB + 10]);
        assertEquals(0x77, q[MIB + 11]);
    }
}
