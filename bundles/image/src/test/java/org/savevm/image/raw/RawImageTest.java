package org.savevm.image.raw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.CacheMode;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.image.internal.QemuImg;
import org.savevm.image.internal.UncachedIo;

class RawImageTest {
    private static final int MIB = 1 << 20;
    private final ImageServiceComponent service = new ImageServiceComponent();

    @TempDir
    Path dir;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] read(BlockImage img, long off, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        img.read(off, b);
        return b.array();
    }

    @Test
    void createsASparseFileAndReadsWritesAtAnyOffset() throws Exception {
        Path f = dir.resolve("a.raw");
        try (BlockImage img = service.create(f, ImageFormat.RAW, 8 * MIB, Optional.empty(), Optional.empty())) {
            assertEquals(8L * MIB, img.size());
            assertEquals(ImageFormat.RAW, img.format());
            assertArrayEquals(new byte[1000], read(img, 12345, 1000));
            byte[] data = random(70000, 1);
            img.write(MIB + 3, ByteBuffer.wrap(data));
            assertArrayEquals(data, read(img, MIB + 3, data.length));
            byte[] edge = random(511, 2);
            img.write(8L * MIB - 511, ByteBuffer.wrap(edge));
            assertArrayEquals(edge, read(img, 8L * MIB - 511, 511));
            IOException e = assertThrows(IOException.class, () -> img.write(8L * MIB - 10, ByteBuffer.allocate(11)));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("8388598"), e.getMessage());
        }
        assertEquals(8L * MIB, Files.size(f));
        assertEquals(ImageFormat.RAW, ImageServiceComponent.probe(f));
        assertThrows(IOException.class,
                () -> service.create(f, ImageFormat.RAW, MIB, Optional.empty(), Optional.empty()), "exists");
    }

    /** QEMU's lock semantics within one process too: one writer and no reader beside it; readers share. */
    @Test
    void aSecondWriterAndAReaderBesideAWriterAreRefused() throws Exception {
        Path raw = dir.resolve("lock.raw");
        Path qcow2 = dir.resolve("lock.qcow2");
        try (BlockImage a = service.create(raw, ImageFormat.RAW, MIB, Optional.empty(), Optional.empty());
                BlockImage b = service.create(qcow2, ImageFormat.QCOW2, MIB, Optional.empty(), Optional.empty())) {
            for (Path f : new Path[] { raw, qcow2 }) {
                IOException e = assertThrows(IOException.class, () -> service.open(f, Optional.empty(), false));
                assertEquals(f + ": failed to get \"write\" lock: is another process using the image?", e.getMessage());
                e = assertThrows(IOException.class, () -> service.open(f, Optional.empty(), true));
                assertEquals(f + ": failed to get shared \"write\" lock: is another process using the image?",
                        e.getMessage());
            }
        }
        for (Path f : new Path[] { raw, qcow2 }) {
            try (BlockImage r1 = service.open(f, Optional.empty(), true);
                    BlockImage r2 = service.open(f, Optional.empty(), true)) {
                assertEquals(MIB, r2.size()); // readers share
                IOException e = assertThrows(IOException.class, () -> service.open(f, Optional.empty(), false));
                assertTrue(e.getMessage().startsWith(f + ": failed to get \"write\" lock"), e.getMessage());
            }
            service.open(f, Optional.empty(), false).close(); // released by close
        }
    }

    @Test
    void readOnlyRefusesWrites() throws Exception {
        Path f = dir.resolve("ro.raw");
        service.create(f, ImageFormat.RAW, MIB, Optional.empty(), Optional.empty()).close();
        try (BlockImage img = service.open(f, Optional.empty(), true)) {
            assertTrue(img.readOnly());
            assertThrows(IOException.class, () -> img.write(0, ByteBuffer.allocate(1)));
            assertThrows(IOException.class, () -> img.writeZeroes(0, 1));
        }
    }

    @Test
    void writeZeroesZeroesDataAndBlockStatusSeesExtents() throws Exception {
        Path f = dir.resolve("z.raw");
        try (BlockImage img = service.create(f, ImageFormat.RAW, 4 * MIB, Optional.empty(), Optional.empty())) {
            img.write(MIB, ByteBuffer.wrap(random(MIB, 3)));
            BlockStatus s0 = img.blockStatus(0, 4 * MIB);
            assertEquals(new BlockStatus(0, MIB, false, true, 0, true), s0);
            BlockStatus s1 = img.blockStatus(MIB, 4 * MIB);
            assertEquals(new BlockStatus(MIB, MIB, true, false, 0, true), s1);
            assertEquals(new BlockStatus(2 * MIB, 2 * MIB, false, true, 0, true), img.blockStatus(2 * MIB, 8 * MIB));
            assertEquals(100, img.blockStatus(MIB + 5, 100).length());

            img.writeZeroes(MIB + 100, MIB / 2);
            byte[] back = read(img, MIB, MIB);
            byte[] expect = random(MIB, 3);
            java.util.Arrays.fill(expect, 100, 100 + MIB / 2, (byte) 0);
            assertArrayEquals(expect, back);
            img.writeZeroes(0, 4 * MIB);
            assertArrayEquals(new byte[MIB], read(img, MIB, MIB));
            assertEquals(new BlockStatus(0, 4 * MIB, false, true, 0, true), img.blockStatus(0, 4 * MIB));
        }
    }

    /** qemu-img map is the judge: holes it reports are zero extents of ours, data extents data. */
    @Test
    void blockStatusAgreesWithQemuImgMapAndHolesStayHoles() throws Exception {
        QemuImg.assumeInstalled();
        Path f = dir.resolve("m.raw");
        try (BlockImage img = service.create(f, ImageFormat.RAW, 8 * MIB, Optional.empty(), Optional.empty())) {
            img.write(2 * MIB, ByteBuffer.wrap(random(MIB + MIB / 2, 4)));
            img.writeZeroes(5 * MIB, 2 * MIB); // a hole: must stay one
            img.flush();
        }
        String map = QemuImg.ok(QemuImg.QEMU_IMG, "map", "--output=json", "-f", "raw", f.toString());
        assertTrue(map.contains("\"start\": 0, \"length\": 2097152, \"depth\": 0, \"present\": true, \"zero\": true, \"data\": false"), map);
        assertTrue(map.contains("\"start\": 2097152, \"length\": 1572864, \"depth\": 0, \"present\": true, \"zero\": false, \"data\": true"), map);
        assertTrue(map.contains("\"start\": 3670016, \"length\": 4718592, \"depth\": 0, \"present\": true, \"zero\": true, \"data\": false"), map);
        try (BlockImage img = service.open(f, Optional.of(ImageFormat.RAW), true)) {
            assertEquals(new BlockStatus(0, 2 * MIB, false, true, 0, true), img.blockStatus(0, 8 * MIB));
            BlockStatus data = img.blockStatus(2 * MIB, 8 * MIB);
            assertEquals(2 * MIB + MIB / 2 + MIB, data.end());
            assertTrue(data.data() && !data.zero());
            BlockStatus tail = img.blockStatus(data.end(), 8 * MIB);
            assertEquals(8L * MIB, tail.end());
            assertFalse(tail.data());
        }
    }

    @Test
    void resizeGrowsWithAHoleAndShrinksByTruncating() throws Exception {
        Path f = dir.resolve("r.raw");
        try (BlockImage img = service.create(f, ImageFormat.RAW, MIB, Optional.empty(), Optional.empty())) {
            byte[] data = random(4096, 3);
            img.write(MIB - 4096, ByteBuffer.wrap(data));
            img.resize(4L * MIB);
            assertEquals(4L * MIB, img.size());
            assertEquals(4L * MIB, Files.size(f));
            assertArrayEquals(data, read(img, MIB - 4096, 4096));
            assertArrayEquals(new byte[4096], read(img, 3L * MIB, 4096), "grown part reads as zeros");
            img.write(4L * MIB - 1, ByteBuffer.wrap(new byte[] { 7 }));
            img.resize(MIB - 4096);
            assertEquals(MIB - 4096, Files.size(f));
            assertThrows(IOException.class, () -> img.read(MIB - 4096, ByteBuffer.allocate(1)), "past the new end");
            assertTrue(assertThrows(IOException.class, () -> img.resize(1000)).getMessage().contains("multiple of 512"));
        }
        try (BlockImage ro = service.open(f, Optional.of(ImageFormat.RAW), true)) {
            assertThrows(IOException.class, () -> ro.resize(MIB));
        }
    }

    /**
     * Writes and reads of whole aligned MiBs from aligned buffers go around the page cache (UncachedIo) where the
     * file system allows it; mixed with small buffered writes of the same range, every read still sees the last
     * write, and writeZeroes over such data zeroes it.
     */
    @Test
    void largeAlignedTransfersStayCoherentWithBufferedOnes() throws Exception {
        Path f = dir.resolve("direct.raw");
        service.create(f, ImageFormat.RAW, 8 * MIB, Optional.empty(), Optional.empty()).close();
        assumeDirectIo(f);
        try (BlockImage img = service.open(f, Optional.of(ImageFormat.RAW), false, CacheMode.NONE)) {
            ByteBuffer chunk = UncachedIo.allocateAligned(MIB);
            byte[] data = random(MIB, 5);
            chunk.put(data).flip();
            assertTrue(UncachedIo.eligible(MIB, chunk));
            img.write(MIB, chunk);
            byte[] small = random(4096, 6);
            img.write(MIB + 8192, ByteBuffer.wrap(small)); // buffered, dirty in the page cache
            System.arraycopy(small, 0, data, 8192, 4096);

            ByteBuffer back = UncachedIo.allocateAligned(MIB);
            img.read(MIB, back);
            assertArrayEquals(data, bytes(back.flip()));
            assertArrayEquals(data, read(img, MIB, MIB)); // through the page cache

            back.clear();
            img.read(4L * MIB, back); // a hole never read: zeros
            assertArrayEquals(new byte[MIB], bytes(back.flip()));

            chunk.clear();
            chunk.put(random(MIB, 7)).flip();
            img.write(MIB, chunk); // replaces what the page cache held
            assertArrayEquals(random(MIB, 7), read(img, MIB, MIB));

            img.writeZeroes(MIB, MIB);
            back.clear();
            img.read(MIB, back);
            assertArrayEquals(new byte[MIB], bytes(back.flip()));
            assertArrayEquals(new byte[MIB], read(img, MIB, MIB));
        }
    }

    private static void assumeDirectIo(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            Optional<UncachedIo> io = UncachedIo.open(f, ch, true);
            assumeTrue(io.isPresent(), "the file system of " + f + " has no O_DIRECT");
            io.get().close();
        }
    }

    /**
     * QEMU's cache= modes: writeback (the default) leaves a written chunk in the host's page cache, none writes it
     * around the cache (O_DIRECT), directsync too and synced; every mode reads back what it wrote; qcow2 refuses
     * the O_DIRECT modes rather than ignoring them.
     */
    @Test
    void theCacheModeDecidesWhetherWritesGoThroughThePageCache() throws Exception {
        Path f = dir.resolve("cache.raw");
        service.create(f, ImageFormat.RAW, 8 * MIB, Optional.empty(), Optional.empty()).close();
        assumeDirectIo(f);
        ByteBuffer chunk = UncachedIo.allocateAligned(MIB);
        int at = 0;
        for (CacheMode mode : CacheMode.values()) {
            long offset = (long) ++at * MIB;
            try (BlockImage img = service.open(f, Optional.empty(), false, mode)) {
                assertEquals(mode, img.cacheMode());
                chunk.clear();
                chunk.put(random(MIB, at)).flip();
                img.write(offset, chunk);
                img.flush();
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
                        UncachedIo probe = UncachedIo.open(f, ch, true).orElseThrow()) {
                    assertEquals(!mode.direct(), probe.resident(offset, MIB), mode.qemuName()
                            + ": written through the page cache?");
                }
                assertArrayEquals(random(MIB, at), read(img, offset, MIB), mode.qemuName());
            }
        }
        assertEquals(CacheMode.WRITEBACK, service.open(f, Optional.empty(), true).cacheMode());

        Path q = dir.resolve("cache.qcow2");
        service.create(q, ImageFormat.QCOW2, 8 * MIB, Optional.empty(), Optional.empty()).close();
        for (CacheMode mode : new CacheMode[] { CacheMode.NONE, CacheMode.DIRECTSYNC }) {
            IOException e = assertThrows(IOException.class, () -> service.open(q, Optional.empty(), false, mode));
            assertTrue(e.getMessage().contains("cache=" + mode.qemuName() + " (O_DIRECT) is not supported for qcow2"),
                    e.getMessage());
        }
        try (BlockImage img = service.open(q, Optional.empty(), false, CacheMode.WRITETHROUGH)) {
            assertEquals(CacheMode.WRITETHROUGH, img.cacheMode());
            img.write(MIB, ByteBuffer.wrap(random(4096, 9)));
            assertArrayEquals(random(4096, 9), read(img, MIB, 4096));
        }
    }

    @Test
    void uncachedIoEligibilityAndResidency() throws Exception {
        ByteBuffer aligned = UncachedIo.allocateAligned(MIB);
        assertEquals(0, aligned.alignmentOffset(0, UncachedIo.ALIGNMENT));
        assertEquals(MIB, aligned.remaining());
        assertTrue(UncachedIo.eligible(0, aligned));
        assertFalse(UncachedIo.eligible(512, aligned), "offset off the page");
        assertFalse(UncachedIo.eligible(0, aligned.duplicate().limit(MIB - 512)), "length off the page");
        assertFalse(UncachedIo.eligible(0, aligned.duplicate().position(512)), "memory off the page");
        assertFalse(UncachedIo.eligible(0, aligned.duplicate().limit(UncachedIo.MIN_LENGTH - 4096)), "short");
        assertFalse(UncachedIo.eligible(0, ByteBuffer.allocate(MIB)), "heap buffer");

        Path f = dir.resolve("resident.raw");
        service.create(f, ImageFormat.RAW, 4 * MIB, Optional.empty(), Optional.empty()).close();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            Optional<UncachedIo> io = UncachedIo.open(f, ch, true);
            assumeTrue(io.isPresent(), "the file system of " + dir + " has no O_DIRECT");
            try (UncachedIo u = io.get()) {
                assertFalse(u.resident(2L * MIB, MIB), "a hole never read is not in the page cache");
                ch.read(ByteBuffer.allocate(MIB), 2L * MIB);
                assertTrue(u.resident(2L * MIB, MIB), "read through the page cache");
                assertTrue(u.resident(4L * MIB, MIB), "past the end: the caller keeps its buffered read");
                ByteBuffer b = UncachedIo.allocateAligned(MIB);
                u.readOrZero(3L * MIB + MIB / 2, b); // half of it past the end of the file
                assertArrayEquals(new byte[MIB], bytes(b.flip()));
            }
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }
}
