package org.savevm.block.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.PendingBytes;
import org.savevm.api.block.BlockMigrationStats;
import org.savevm.api.block.BlockStatus;
import org.savevm.testing.ForwardingBlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.block.codec.BlockFlags;
import org.savevm.block.testing.Disks;
import org.savevm.block.testing.RawFileImage;
import org.savevm.block.testing.TestDrive;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/** The block handler's save and load sessions through the real savevm core, over raw test images. */
class BlockHandlerTest {
    /** 8 MiB and three sectors: a short last chunk of 1536 bytes. */
    static final long SIZE = (8L << 20) + 3 * 512;

    @TempDir
    Path tmp;

    private RawFileImage source(String name) throws IOException {
        RawFileImage img = Disks.halfRandom(tmp.resolve(name), SIZE, 3L << 20, 7);
        byte[] b = new byte[1536];
        new Random(8).nextBytes(b);
        img.write(SIZE - 1536, ByteBuffer.wrap(b));
        return img;
    }

    private Map<String, Object> analyze(byte[] stream) throws IOException {
        return AnalyzedStream.block(stream);
    }

    @Test
    void savedWhileTheGuestWritesAndLoadedImageEqualsTheSource() throws Exception {
        TestDrive src = new TestDrive("disk0", source("src.raw"));
        TestDrive dst = new TestDrive("disk0", RawFileImage.create(tmp.resolve("dst.raw"), SIZE));
        try (BlockVm a = new BlockVm(List.of(src), true); BlockVm b = new BlockVm(List.of(dst), true)) {
            MigrationContext ctx = new MigrationContext(BlockVm.block(false, false));
            Random rnd = new Random(3);
            byte[] stream = a.save(ctx, 5, () -> Disks.guestWrites(src, rnd, 20));
            BlockMigrationStats stats = ctx.find(BlockMigrationStats.class).orElseThrow();
            assertEquals(SIZE, stats.total());
            assertEquals(0, stats.remaining());
            assertTrue(stats.transferred() > SIZE, "the dirty phase re-sent chunks: " + stats.transferred());
            assertNull(src.holder(), "the drive is released after the migration");

            assertNotEquals(src.contentHash(), dst.contentHash());
            b.load(stream, MigrationSettings.DEFAULTS);
            assertEquals(src.contentHash(), dst.contentHash());

            Map<String, Object> r = analyze(stream);
            Map<?, ?> d = (Map<?, ?>) ((Map<?, ?>) r.get("drives")).get("disk0");
            assertTrue((Long) d.get("chunks") > 9, "bulk (9 chunks) and dirty chunks: " + d);
            assertEquals(0L, d.get("zero_chunks"));
            assertEquals(100L, r.get("last_progress"));
        }
    }

    @Test
    void zeroBlocksSendsZeroChunksWithoutData() throws Exception {
        TestDrive src = new TestDrive("disk0", source("src.raw"));
        TestDrive dst = new TestDrive("disk0", Disks.halfRandom(tmp.resolve("dst.raw"), SIZE, SIZE, 99));
        try (BlockVm a = new BlockVm(List.of(src), false); BlockVm b = new BlockVm(List.of(dst), false)) {
            byte[] stream = a.save(new MigrationContext(BlockVm.block(true, false)), 0, () -> { });
            Map<?, ?> d = (Map<?, ?>) ((Map<?, ?>) analyze(stream).get("drives")).get("disk0");
            assertEquals(4L, d.get("chunks"), "chunks 0-2 random, 8 the short last one: " + d);
            assertEquals(5L, d.get("zero_chunks"));
            assertTrue(stream.length < 5L << 20, "no data for zero chunks: " + stream.length);
            b.load(stream, MigrationSettings.DEFAULTS);
            assertEquals(src.contentHash(), dst.contentHash(), "the destination's old data under zero chunks is zeroed");
        }
    }

    @Test
    void withoutTheCapabilityThereIsNoBlockSection() throws Exception {
        TestDrive src = new TestDrive("disk0", source("src.raw"));
        try (BlockVm a = new BlockVm(List.of(src), false)) {
            MigrationContext ctx = new MigrationContext(MigrationSettings.DEFAULTS);
            byte[] stream = a.save(ctx, 0, () -> { });
            assertTrue(stream.length < 4096, "no disk data: " + stream.length);
            assertTrue(ctx.find(BlockMigrationStats.class).isEmpty());
            assertTrue(AnalyzedStream.block(stream).isEmpty());
        }
    }

    @Test
    void readOnlyDrivesAreNotMigrated() throws Exception {
        RawFileImage ro = RawFileImage.open(source("ro.raw").path(), true);
        TestDrive src = new TestDrive("cd0", ro);
        TestDrive rw = new TestDrive("disk1", Disks.halfRandom(tmp.resolve("rw.raw"), 2L << 20, 1L << 20, 5));
        try (BlockVm a = new BlockVm(List.of(src, rw), false)) {
            MigrationContext ctx = new MigrationContext(BlockVm.block(false, false));
            byte[] stream = a.save(ctx, 0, () -> { });
            assertEquals(2L << 20, ctx.find(BlockMigrationStats.class).orElseThrow().total());
            Map<?, ?> drives = (Map<?, ?>) AnalyzedStream.block(stream).get("drives");
            assertEquals(List.of("disk1"), List.copyOf(drives.keySet().stream().map(Object::toString).toList()));
        }
    }

    /** An image that reports only the listed chunks as allocated in the top layer (a qcow2 overlay's view). */
    static final class Overlay extends ForwardingBlockImage {
        private final long allocatedChunkMask;

        Overlay(RawFileImage raw, long allocatedChunkMask) {
            super(raw);
            this.allocatedChunkMask = allocatedChunkMask;
        }

        @Override
        public ImageFormat format() {
            return ImageFormat.QCOW2;
        }

        @Override
        public boolean readOnly() {
            return false;
        }

        @Override
        public BlockStatus blockStatus(long offset, long maxLength) {
            // 64 KiB extents; a listed chunk has its second cluster allocated (its only one when it is short)
            long c = offset / BlockFlags.CHUNK_SIZE;
            long last = (size() - 1) / BlockFlags.CHUNK_SIZE;
            boolean alloc = (allocatedChunkMask & (1L << c)) != 0
                    && (offset % BlockFlags.CHUNK_SIZE >= 65536 || c == last);
            long len = Math.min(maxLength, 65536 - offset % 65536);
            return new BlockStatus(offset, len, true, false, alloc ? 0 : 1, alloc);
        }
    }

    @Test
    void incrementalSendsOnlyChunksAllocatedInTheTopImage() throws Exception {
        TestDrive src = new TestDrive("disk0", new Overlay(source("src.raw"), 0b100100010L));
        try (BlockVm a = new BlockVm(List.of(src), false)) {
            MigrationContext ctx = new MigrationContext(BlockVm.block(false, true));
            byte[] stream = a.save(ctx, 0, () -> { });
            Map<String, Object> r = AnalyzedStream.block(stream);
            Map<?, ?> d = (Map<?, ?>) ((Map<?, ?>) r.get("drives")).get("disk0");
            assertEquals(3L, d.get("chunks"), "chunks 1, 5 and 8: " + d);
            assertEquals(100L, r.get("last_progress"));
            List<Long> offsets = AnalyzedStream.chunkOffsets(stream);
            assertEquals(List.of(1L << 20, 5L << 20, 8L << 20), offsets);
        }
    }

    @Test
    void pendingCountsEveryByteTheBulkPhaseHasNotSent() throws Exception {
        TestDrive src = new TestDrive("disk0", source("src.raw"));
        BlockSaveSession s = new BlockSaveSession(List.of(src), false, false, 4);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (s; MigrationOutput out = MigrationOutput.of(b)) {
            s.setup(out);
            assertEquals("migration", src.holder());
            assertEquals(new PendingBytes(SIZE, 0), s.pending(false));
            assertFalse(s.firstPassDone());
            // a rate limit after 2 MiB: the iteration stops in the bulk phase
            out.setRateLimiter(pos -> pos > 2L << 20);
            assertFalse(s.iterate(out));
            assertTrue(s.transferred() > 0 && s.transferred() < SIZE, "sent " + s.transferred());
            assertEquals(SIZE - s.transferred(), s.pending(true).mustPrecopy(),
                    "everything the bulk phase still has to send, not one chunk as QEMU 7.2 says");
            assertEquals(SIZE - s.transferred(), s.remaining());
            assertFalse(s.firstPassDone());
            Disks.guestWrites(src, new Random(1), 1);
            assertTrue(s.pending(true).mustPrecopy() >= SIZE - s.transferred());
            out.setRateLimiter(null);
            while (!s.iterate(out)) {
                // to the end of the bulk phase and one dirty pass
            }
            assertTrue(s.firstPassDone());
            assertEquals(PendingBytes.NONE, s.pending(true));
            Disks.guestWrites(src, new Random(2), 1);
            long dirty = s.pending(true).mustPrecopy();
            assertTrue(dirty > 0 && dirty <= 2L << 20, "one or two dirty chunks: " + dirty);
            s.completePrecopy(out);
            assertEquals(PendingBytes.NONE, s.pending(true));
        }
        assertNull(src.holder());
    }

    @Test
    void aReadErrorFailsTheMigrationNamingTheDeviceAndReleasesIt() throws Exception {
        RawFileImage img = source("src.raw");
        img.failReadsFrom = 5L << 20;
        TestDrive src = new TestDrive("disk0", img);
        try (BlockVm a = new BlockVm(List.of(src), false)) {
            IOException e = assertThrows(IOException.class,
                    () -> a.save(new MigrationContext(BlockVm.block(false, false)), 0, () -> { }));
            assertTrue(e.getMessage().contains("block: reading device 'disk0' at offset 0x500000 failed")
                    && e.getMessage().contains("injected read error"),
                    e.getMessage());
            assertNull(src.holder(), "released after the failure");
        }
        img.failReadsFrom = Long.MAX_VALUE;
        assertEquals(Disks.content(source("again.raw")).length, Disks.content(img).length);
    }

    @Test
    void aDestinationWriteErrorFailsTheLoadNamingDeviceAndOffset() throws Exception {
        TestDrive src = new TestDrive("disk0", source("src.raw"));
        RawFileImage full = RawFileImage.create(tmp.resolve("dst.raw"), SIZE);
        full.failWritesFrom = 2L << 20;
        TestDrive dst = new TestDrive("disk0", full);
        try (BlockVm a = new BlockVm(List.of(src), false); BlockVm b = new BlockVm(List.of(dst), false)) {
            byte[] stream = a.save(new MigrationContext(BlockVm.block(false, false)), 0, () -> { });
            IOException e = assertThrows(IOException.class, () -> b.load(stream, MigrationSettings.DEFAULTS));
            assertTrue(e.getMessage().contains("block: writing device 'disk0' at offset 0x200000 failed")
                    && e.getMessage().contains("No space left on device") && e.getMessage().contains("at byte offset"),
                    e.getMessage());
        }
    }

    @Test
    void theLoadRefusesBadChunksNamingTheByteOffset() throws Exception {
        TestDrive dst = new TestDrive("disk0", RawFileImage.create(tmp.resolve("dst.raw"), 4L << 20));
        try (BlockVm b = new BlockVm(List.of(dst), false)) {
            BlockLoadSession load = new BlockLoadSession(b.machine);
            assertTrue(refusal(load, 0x01, "disk9", 0).contains("unknown block device 'disk9' (at byte offset 0)"));
            assertTrue(refusal(load, 0x01, "disk0", 4L << 20)
                    .contains("chunk at offset 0x400000 is past the end of device 'disk0' (0x400000 bytes)"
                            + " (at byte offset 0)"));
            assertTrue(refusal(load, 0x41, "disk0", 0).contains("unknown block migration flags 0x41"));
            byte[] cut = ByteBuffer.allocate(11).putLong(0x01).put((byte) 250).put((byte) 'd').put((byte) 'i')
                    .array();
            IOException e = assertThrows(IOException.class, () -> load.load(MigrationInput.of(cut), 1));
            assertTrue(e.getMessage().contains("device name of 250 bytes at offset 8 runs past the end"),
                    e.getMessage());
        }
    }

    private static String refusal(BlockLoadSession load, int flags, String name, long offset) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(b)) {
            out.putBe64(offset | flags).putCountedString(name);
            out.putBytes(new byte[BlockFlags.CHUNK_SIZE]);
            out.putBe64(BlockFlags.EOS);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        IOException e = assertThrows(IOException.class, () -> load.load(MigrationInput.of(b.toByteArray()), 1));
        return e.getMessage();
    }
}
