package org.savevm.stream;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.ScatteringByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Buffered big-endian reader of a migration stream. Every read that runs past the end of the stream
 * fails with a {@link MigrationStreamException} naming the byte offset; reads never block forever on a
 * closed channel and never allocate more than the caller asked for.
 */
public final class MigrationInput implements Closeable {
    private static final int DEFAULT_BUFFER = 64 * 1024;
    /** A {@link #readFully(ByteBuffer)} of at least this much reads straight into the caller's buffer. */
    private static final int DIRECT_READ_MIN = 64 * 1024;
    /**
     * What a direct read takes into the buffer past the caller's, and what one fill reads while the stream is in
     * direct reads: enough for the next record's header (a disk chunk's header and device name are under 300
     * bytes), little enough that the next chunk is not sitting in the buffer already, to be copied once more. A
     * fill of the whole buffer there had taken a quarter of a 1 GiB disk's chunks into the buffer (measured), each
     * then copied into its chunk buffer.
     */
    private static final int DIRECT_TAIL = 2 * 1024;

    private final ReadableByteChannel channel;
    private final ScatteringByteChannel scattering;
    private final ByteBuffer buf;
    /** Stream offset of buf[0]. */
    private long bufBase;
    /**
     * The last {@link #readFully(ByteBuffer)} or {@link #readFully(byte[], int, int)} went straight into the
     * caller's buffer: more such reads are likely (a block section's chunks), so fills stay small.
     */
    private boolean directReads;
    private boolean eof;

    public MigrationInput(ReadableByteChannel channel) {
        this(channel, DEFAULT_BUFFER);
    }

    public MigrationInput(ReadableByteChannel channel, int bufferSize) {
        this.channel = channel;
        this.scattering = channel instanceof ScatteringByteChannel s ? s : null;
        this.buf = ByteBuffer.allocateDirect(Math.max(64, bufferSize));
        this.buf.limit(0);
    }

    public static MigrationInput of(InputStream in) {
        return new MigrationInput(Channels.newChannel(in));
    }

    public static MigrationInput of(byte[] bytes) {
        return of(new ByteArrayInputStream(bytes));
    }

    /** Offset of the next byte to be read. */
    public long position() {
        return bufBase + buf.position();
    }

    /** Makes at least {@code n} (≤ buffer capacity) bytes available, or as many as the stream has. */
    private boolean fill(int n) throws IOException {
        if (buf.remaining() >= n) {
            return true;
        }
        bufBase += buf.position();
        buf.compact();
        if (directReads) {
            buf.limit(Math.min(buf.capacity(), Math.max(n, DIRECT_TAIL)));
        }
        try {
            while (buf.position() < n && !eof) {
                int r = channel.read(buf);
                if (r < 0) {
                    eof = true;
                }
            }
        } catch (IOException e) {
            buf.flip();
            throw new MigrationStreamException("read failed: " + e.getMessage(), position(), e);
        }
        buf.flip();
        return buf.remaining() >= n;
    }

    private void need(int n, String what) throws IOException {
        if (!fill(n)) {
            throw new MigrationStreamException("unexpected end of stream reading " + what, position(),
                    new EOFException());
        }
    }

    /** The next byte without consuming it, or -1 at the end of the stream. */
    public int peekByte() throws IOException {
        return fill(1) ? buf.get(buf.position()) & 0xff : -1;
    }

    /**
     * Up to {@code len} bytes starting {@code offset} bytes ahead, without consuming them (fewer at the
     * end of the stream): QEMU's qemu_peek_buffer, e.g. for a subsection name. {@code offset + len}
     * must fit the read buffer.
     */
    public byte[] peekBytes(int offset, int len) throws IOException {
        if (offset < 0 || len < 0 || offset + len > buf.capacity()) {
            throw new IllegalArgumentException("peek of " + len + " bytes at +" + offset + " exceeds the buffer");
        }
        fill(offset + len);
        int avail = Math.max(0, Math.min(len, buf.remaining() - offset));
        byte[] b = new byte[avail];
        buf.get(buf.position() + offset, b);
        return b;
    }

    /** True when no byte is left. */
    public boolean atEnd() throws IOException {
        return !fill(1);
    }

    public int getByte() throws IOException {
        need(1, "u8");
        return buf.get() & 0xff;
    }

    public int getBe16() throws IOException {
        need(2, "be16");
        return buf.getShort() & 0xffff;
    }

    public int getBe32() throws IOException {
        need(4, "be32");
        return buf.getInt();
    }

    public long getBe64() throws IOException {
        need(8, "be64");
        return buf.getLong();
    }

    public void readFully(byte[] b) throws IOException {
        readFully(b, 0, b.length);
    }

    public void readFully(byte[] b, int off, int len) throws IOException {
        directReads = false;
        while (len > 0) {
            if (!buf.hasRemaining()) {
                need(1, len + " more bytes");
            }
            int n = Math.min(len, buf.remaining());
            buf.get(b, off, n);
            off += n;
            len -= n;
        }
    }

    /**
     * Fills the remaining space of {@code dst} from the stream (e.g. straight into off-heap RAM). A large
     * {@code dst} (a disk chunk) takes what the buffer holds and then the rest straight from a scattering
     * channel, one read into {@code dst} and on into the buffer, so that the bulk is copied once (by the kernel)
     * and the small fields after it still come from the buffer.
     */
    public void readFully(ByteBuffer dst) throws IOException {
        directReads = scattering != null && dst.remaining() >= DIRECT_READ_MIN;
        if (directReads && dst.remaining() - buf.remaining() >= DIRECT_READ_MIN) {
            int n = buf.remaining();
            dst.put(dst.position(), buf, buf.position(), n);
            dst.position(dst.position() + n);
            buf.position(buf.limit());
            readAround(dst);
            return;
        }
        while (dst.hasRemaining()) {
            if (!buf.hasRemaining()) {
                need(1, dst.remaining() + " more bytes");
            }
            int n = Math.min(dst.remaining(), buf.remaining());
            // absolute bulk copy: no slice allocated per page
            dst.put(dst.position(), buf, buf.position(), n);
            dst.position(dst.position() + n);
            buf.position(buf.position() + n);
        }
    }

    /**
     * With the buffer drained: reads into {@code dst} until it is full, what follows going into the buffer — at
     * most {@link #DIRECT_TAIL} of it, so that the next large read is not partly in the buffer already.
     */
    private void readAround(ByteBuffer dst) throws IOException {
        bufBase += buf.position();
        buf.clear().limit(Math.min(buf.capacity(), DIRECT_TAIL));
        ByteBuffer[] both = {dst, buf};
        try {
            while (dst.hasRemaining() && !eof) {
                int before = dst.position();
                long r = scattering.read(both);
                if (r < 0) {
                    eof = true;
                }
                bufBase += dst.position() - before;
            }
        } catch (IOException e) {
            buf.flip();
            throw new MigrationStreamException("read failed: " + e.getMessage(), position(), e);
        }
        buf.flip();
        if (dst.hasRemaining()) {
            throw new MigrationStreamException("unexpected end of stream reading " + dst.remaining() + " more bytes",
                    position(), new EOFException());
        }
    }

    /** Reads {@code len} bytes into a new array; the caller bounds {@code len} before calling. */
    public byte[] readBytes(int len) throws IOException {
        if (len < 0) {
            throw new MigrationStreamException("negative length " + len, position());
        }
        byte[] b = new byte[len];
        readFully(b);
        return b;
    }

    public void skip(long n) throws IOException {
        while (n > 0) {
            if (!buf.hasRemaining()) {
                need(1, "skipped bytes");
            }
            int k = (int) Math.min(n, buf.remaining());
            buf.position(buf.position() + k);
            n -= k;
        }
    }

    /** u8 length then the bytes: QEMU's qemu_get_counted_string. */
    public String getCountedString() throws IOException {
        int len = getByte();
        byte[] b = new byte[len];
        long at = position();
        if (!fill(Math.min(len, buf.capacity()))) {
            throw new MigrationStreamException("counted string of " + len + " bytes runs past the end of the stream",
                    at);
        }
        readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
