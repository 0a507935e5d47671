package org.savevm.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Pages queued by reference and written with writev, QEMUFile's iovec batching. */
class GatheringOutputTest {
    /** Records every write call: how many buffers it was given and the bytes it took. */
    private static final class RecordingChannel implements GatheringByteChannel {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<Integer> gatheredCounts = new ArrayList<>();
        int plainWrites;
        IOException failWith;

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            if (failWith != null) {
                throw failWith;
            }
            gatheredCounts.add(length);
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += take(srcs[i]);
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (failWith != null) {
                throw failWith;
            }
            plainWrites++;
            return take(src);
        }

        private int take(ByteBuffer b) {
            byte[] a = new byte[b.remaining()];
            b.get(a);
            bytes.writeBytes(a);
            return a.length;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static ByteBuffer directPage(int fill) {
        ByteBuffer p = ByteBuffer.allocateDirect(4096);
        for (int i = 0; i < 4096; i++) {
            p.put(i, (byte) (fill + i));
        }
        return p;
    }

    @Test
    void pagesAndHeadersGoOutInOneGatheringWriteInStreamOrder() throws IOException {
        RecordingChannel ch = new RecordingChannel();
        MigrationOutput out = new MigrationOutput(ch, 4096);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < 10; i++) {
            out.putBe64(0x1000L * i | 0x08);
            ByteBuffer page = directPage(i);
            out.putBuffer(page.duplicate());
            expected.writeBytes(ByteBuffer.allocate(8).putLong(0x1000L * i | 0x08).array());
            byte[] a = new byte[4096];
            page.get(0, a);
            expected.writeBytes(a);
        }
        out.putBe64(0x10);
        expected.writeBytes(ByteBuffer.allocate(8).putLong(0x10).array());
        assertEquals(expected.size(), out.position(), "queued bytes count in the position");
        assertEquals(0, ch.bytes.size(), "nothing written before the batch is full or flushed");
        out.flush();
        assertArrayEquals(expected.toByteArray(), ch.bytes.toByteArray());
        assertEquals(List.of(21), ch.gatheredCounts, "ten headers, ten pages and the trailing EOS in one writev");
        assertEquals(0, ch.plainWrites);
    }

    @Test
    void heapBuffersAreCopiedSoTheirOwnerMayReuseThem() throws IOException {
        RecordingChannel ch = new RecordingChannel();
        MigrationOutput out = new MigrationOutput(ch, 64 * 1024);
        byte[] cache = new byte[4096];
        Arrays.fill(cache, (byte) 1);
        out.putBuffer(ByteBuffer.wrap(cache));
        Arrays.fill(cache, (byte) 2);
        out.flush();
        byte[] got = ch.bytes.toByteArray();
        assertEquals(4096, got.length);
        for (byte b : got) {
            assertEquals(1, b);
        }
    }

    @Test
    void batchesAreBoundedInEntriesAndEveryByteArrives() throws IOException {
        RecordingChannel ch = new RecordingChannel();
        MigrationOutput out = new MigrationOutput(ch, 256 * 1024);
        ByteBuffer page = directPage(7);
        for (int i = 0; i < 3000; i++) {
            out.putBe64(i);
            out.putBuffer(page.duplicate());
        }
        out.flush();
        assertEquals(3000L * (8 + 4096), ch.bytes.size());
        assertTrue(ch.gatheredCounts.stream().allMatch(n -> n <= 1024), "at most IOV_MAX entries");
        assertTrue(ch.gatheredCounts.size() > 1);
        ByteBuffer all = ByteBuffer.wrap(ch.bytes.toByteArray());
        for (int i = 0; i < 3000; i++) {
            assertEquals(i, all.getLong());
            all.position(all.position() + 4096);
        }
    }

    @Test
    void aFailedWriteDropsTheQueueAndStaysSticky() {
        RecordingChannel ch = new RecordingChannel();
        MigrationOutput out = new MigrationOutput(ch, 4096);
        out.putBe64(1);
        out.putBuffer(directPage(1));
        ch.failWith = new IOException("connection reset");
        IOException e = assertThrows(IOException.class, out::flush);
        assertEquals("connection reset", e.getMessage());
        out.putBuffer(directPage(2));
        assertTrue(out.rateLimitExceeded(), "a failed stream stops the iteration like QEMU's rate limit");
        assertThrows(IOException.class, out::flush);
    }

    @Test
    void nonGatheringChannelsGetCopiedBlocks() throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(sink);
        ByteBuffer page = directPage(3);
        out.putBe32(0xdeadbeef);
        out.putBuffer(page.duplicate());
        out.flush();
        byte[] got = sink.toByteArray();
        assertEquals(4 + 4096, got.length);
        assertEquals(0xdeadbeef, ByteBuffer.wrap(got).getInt());
        assertEquals((byte) (3 + 4095), got[4 + 4095]);
    }
}
