package org.savevm.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

class MigrationStreamTest {

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    @Test
    void writesBigEndianValuesAndCountedStrings() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            out.putBe32(0x5145564d).putBe32(3).putByte(7).putBe16(0xbeef).putBe64(0x0102030405060708L)
                    .putCountedString("ram");
            assertEquals(4 + 4 + 1 + 2 + 8 + 4, out.position());
        }
        assertArrayEquals(hex("5145564d 00000003 07 beef 0102030405060708 03 72616d"), bytes.toByteArray());
    }

    @Test
    void readsWhatWasWrittenAndTracksPosition() throws IOException {
        MigrationInput in = MigrationInput.of(hex("5145564d 00000003 07 beef ffffffffffffffff 03 72616d"));
        assertEquals(0x5145564d, in.getBe32());
        assertEquals(3, in.getBe32());
        assertEquals(7, in.peekByte());
        assertEquals(7, in.getByte());
        assertEquals(0xbeef, in.getBe16());
        assertEquals(-1L, in.getBe64());
        assertEquals(19, in.position());
        assertEquals("ram", in.getCountedString());
        assertTrue(in.atEnd());
        assertEquals(-1, in.peekByte());
    }

    @Test
    void pagesGoOutWithTheBufferedHeaderInOrder() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ByteBuffer page = ByteBuffer.allocateDirect(4096);
        for (int i = 0; i < 4096; i++) {
            page.put(i, (byte) (i * 31));
        }
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            out.putBe64(0x1000 | 0x08);
            out.putBuffer(page.duplicate());
            out.putBe64(0x10);
            assertEquals(8 + 4096 + 8, out.position());
        }
        byte[] b = bytes.toByteArray();
        assertEquals(8 + 4096 + 8, b.length);
        MigrationInput in = MigrationInput.of(b);
        assertEquals(0x1008L, in.getBe64());
        ByteBuffer back = ByteBuffer.allocate(4096);
        in.readFully(back);
        back.flip();
        assertEquals(page.duplicate().rewind(), back);
        assertEquals(0x10L, in.getBe64());
    }

    @Test
    void gatheringChannelGetsHeaderAndPageTogether() throws IOException {
        Pipe pipe = Pipe.open();
        ByteBuffer page = ByteBuffer.allocate(8192);
        page.put(0, (byte) 0xaa).put(8191, (byte) 0x55);
        Thread writer = new Thread(() -> {
            try (MigrationOutput out = new MigrationOutput(pipe.sink(), 128)) {
                for (int i = 0; i < 100; i++) {
                    out.putBe32(i);
                    out.putBuffer(page.duplicate());
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        writer.start();
        try (MigrationInput in = new MigrationInput(pipe.source(), 256)) {
            byte[] got = new byte[8192];
            for (int i = 0; i < 100; i++) {
                assertEquals(i, in.getBe32());
                in.readFully(got);
                assertEquals((byte) 0xaa, got[0]);
                assertEquals((byte) 0x55, got[8191]);
            }
            assertTrue(in.atEnd());
        }
    }

    @Test
    void truncatedReadNamesTheOffset() {
        MigrationInput in = MigrationInput.of(hex("00000001 0000"));
        MigrationStreamException e = assertThrows(MigrationStreamException.class, () -> {
            in.getBe32();
            in.getBe32();
        });
        assertEquals(4, e.offset());
        assertTrue(e.getMessage().contains("unexpected end of stream reading be32"), e.getMessage());
        assertTrue(e.getMessage().contains("offset 4"), e.getMessage());
    }

    @Test
    void countedStringPastTheEndFailsWithoutAllocatingMore() {
        MigrationInput in = MigrationInput.of(hex("ff 6162"));
        MigrationStreamException e = assertThrows(MigrationStreamException.class, in::getCountedString);
        assertTrue(e.getMessage().contains("counted string of 255 bytes runs past the end"), e.getMessage());
        assertEquals(1, e.offset());
    }

    @Test
    void countedStringOver255BytesIsRefusedOnWrite() throws IOException {
        try (MigrationOutput out = MigrationOutput.of(new ByteArrayOutputStream())) {
            assertThrows(IllegalArgumentException.class, () -> out.putCountedString("x".repeat(256)));
        }
    }

    @Test
    void negativeLengthIsRefused() {
        MigrationInput in = MigrationInput.of(new byte[4]);
        assertThrows(MigrationStreamException.class, () -> in.readBytes(-5));
    }

    @Test
    void firstWriteErrorIsStickyAndLaterOnesAreDropped() throws IOException {
        IOException first = new IOException("connection reset");
        int[] calls = {0};
        OutputStream failing = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                calls[0]++;
                throw calls[0] == 1 ? first : new IOException("second");
            }
        };
        MigrationOutput out = new MigrationOutput(Channels.newChannel(failing), 64);
        for (int i = 0; i < 100; i++) {
            out.putBe64(i);
        }
        out.putBuffer(ByteBuffer.allocate(4096));
        assertSame(first, out.error());
        assertTrue(out.rateLimitExceeded(), "a failed stream stops the sender");
        assertSame(first, assertThrows(IOException.class, out::flush));
        assertEquals(1, calls[0], "nothing more is written after the first error");
    }

    @Test
    void rateLimiterSeesThePosition() throws IOException {
        try (MigrationOutput out = MigrationOutput.of(new ByteArrayOutputStream())) {
            out.setRateLimiter(total -> total >= 16);
            out.putBe64(1);
            assertEquals(false, out.rateLimitExceeded());
            out.putBe64(2);
            assertEquals(true, out.rateLimitExceeded());
        }
    }

    @Test
    void readFailureBecomesAStreamErrorWithOffset() throws IOException {
        InputStream failing = new InputStream() {
            int n;

            @Override
            public int read() throws IOException {
                if (n++ < 3) {
                    return 1;
                }
                throw new IOException("broken pipe");
            }
        };
        MigrationInput in = MigrationInput.of(failing);
        MigrationStreamException e = assertThrows(MigrationStreamException.class, in::getBe64);
        assertTrue(e.getMessage().contains("broken pipe"), e.getMessage());
    }

    @Test
    void skipCrossesBufferRefills() throws IOException {
        byte[] data = new byte[300_000];
        data[299_999] = 42;
        MigrationInput in = new MigrationInput(Channels.newChannel(new java.io.ByteArrayInputStream(data)), 100);
        in.skip(299_999);
        assertEquals(299_999, in.position());
        assertEquals(42, in.getByte());
        assertThrows(MigrationStreamException.class, () -> in.skip(1));
    }

    /** Writes {@code bytes} into a pipe from another thread, then closes it. */
    private static Pipe.SourceChannel piped(byte[] bytes) throws IOException {
        Pipe pipe = Pipe.open();
        Thread t = new Thread(() -> {
            try (Pipe.SinkChannel sink = pipe.sink()) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    sink.write(b);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "test-pipe-writer");
        t.setDaemon(true);
        t.start();
        return pipe.source();
    }

    /** A large readFully goes straight into the caller's buffer and on into the stream's: positions stay exact. */
    @Test
    void largeReadsOfAScatteringChannelKeepTheFieldsAround() throws IOException {
        byte[] chunk = new byte[(1 << 20) + 3];
        new java.util.Random(5).nextBytes(chunk);
        ByteBuffer stream = ByteBuffer.allocate(8 + chunk.length + 4 + 2 * chunk.length + 2);
        stream.putLong(0x0102030405060708L).put(chunk).putInt(0xcafebabe).put(chunk).put(chunk).putShort((short) 7);
        try (MigrationInput in = new MigrationInput(piped(stream.array()), 64 * 1024)) {
            assertEquals(0x0102030405060708L, in.getBe64());
            ByteBuffer dst = ByteBuffer.allocateDirect(chunk.length);
            in.readFully(dst);
            assertEquals(0, dst.flip().compareTo(ByteBuffer.wrap(chunk)));
            assertEquals(8 + chunk.length, in.position());
            assertEquals(0xcafebabe, in.getBe32());
            ByteBuffer two = ByteBuffer.allocateDirect(2 * chunk.length);
            in.readFully(two);
            assertEquals(0, two.flip().slice(chunk.length, chunk.length).compareTo(ByteBuffer.wrap(chunk)));
            assertEquals(7, in.getBe16());
            assertEquals(stream.capacity(), in.position());
            assertTrue(in.atEnd());
        }
    }

    @Test
    void aLargeReadCutShortNamesWhereTheStreamEnded() throws IOException {
        byte[] cut = new byte[8 + 300_000];
        try (MigrationInput in = new MigrationInput(piped(cut), 64 * 1024)) {
            in.getBe64();
            MigrationStreamException e = assertThrows(MigrationStreamException.class,
                    () -> in.readFully(ByteBuffer.allocateDirect(1 << 20)));
            assertEquals(cut.length, e.offset());
            assertTrue(e.getMessage().contains((1 << 20) - 300_000 + " more bytes"), e.getMessage());
        }
    }

    /**
     * A run of disk chunks (a header, a device name, 1 MiB) from a channel that always has plenty to give, as a
     * socket from a faster source does: almost every data byte goes straight into the chunk buffers, only the
     * headers and a small tail (2 KiB) through the stream's own buffer (each byte there is copied once more).
     */
    @Test
    void chunkDataFromAFullChannelIsNotCopiedThroughTheBuffer() throws IOException {
        int records = 24;
        int chunk = 1 << 20;
        ByteBuffer stream = ByteBuffer.allocate(records * (8 + 1 + 5 + chunk));
        for (int i = 0; i < records; i++) {
            stream.putLong((long) i << 20 | 1).put((byte) 5).put("disk0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            for (int k = 0; k < chunk; k += 4096) {
                stream.put(stream.position() + k, (byte) (i + k));
            }
            stream.position(stream.position() + chunk);
        }
        stream.flip();
        long[] viaBuffer = {0};
        long[] direct = {0};
        java.nio.channels.ScatteringByteChannel full = new java.nio.channels.ScatteringByteChannel() {
            private int give(ByteBuffer b) {
                int n = Math.min(b.remaining(), stream.remaining());
                b.put(b.position(), stream, stream.position(), n).position(b.position() + n);
                stream.position(stream.position() + n);
                return n;
            }

            @Override
            public int read(ByteBuffer dst) {
                if (!stream.hasRemaining()) {
                    return -1;
                }
                int n = give(dst);
                viaBuffer[0] += n;
                return n;
            }

            @Override
            public long read(ByteBuffer[] dsts, int offset, int length) {
                if (!stream.hasRemaining()) {
                    return -1;
                }
                long n = 0;
                for (int i = offset; i < offset + length; i++) {
                    int k = give(dsts[i]);
                    if (dsts[i].capacity() >= chunk) {
                        direct[0] += k;
                    } else {
                        viaBuffer[0] += k;
                    }
                    n += k;
                }
                return n;
            }

            @Override
            public long read(ByteBuffer[] dsts) {
                return read(dsts, 0, dsts.length);
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        ByteBuffer dst = ByteBuffer.allocateDirect(chunk);
        try (MigrationInput in = new MigrationInput(full, chunk)) {
            for (int i = 0; i < records; i++) {
                assertEquals((long) i << 20 | 1, in.getBe64());
                assertEquals("disk0", new String(in.readBytes(in.getByte()), java.nio.charset.StandardCharsets.US_ASCII));
                in.readFully(dst.clear());
                assertEquals((byte) (i + 8192), dst.get(8192), "chunk " + i);
            }
            assertTrue(in.atEnd());
        }
        assertEquals(stream.limit(), viaBuffer[0] + direct[0]);
        // the first fill may take a whole buffer's worth; after that a header and at most a 2 KiB tail per chunk
        assertTrue(viaBuffer[0] <= chunk + records * (14 + 2048L),
                viaBuffer[0] + " bytes through the buffer, " + direct[0] + " straight into the chunks");
    }
}
