package org.savevm.stream;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Buffered big-endian writer of a migration stream. Small values go through an internal buffer; large
 * buffers (RAM pages) are handed to the channel with a gathering write together with what is buffered,
 * so page data is not copied when the channel supports it.
 *
 * <p>The first I/O error is sticky, like QEMU's qemu_file_set_error: later writes are dropped and
 * {@link #checkError()} rethrows it. Not thread-safe: one writer thread per stream.
 */
public final class MigrationOutput implements Closeable {
    private static final int DEFAULT_BUFFER = 64 * 1024;
    /** Buffers at least this long skip the internal copy. */
    private static final int ZERO_COPY_THRESHOLD = 2048;

    private final WritableByteChannel channel;
    private final ByteBuffer buf;
    private long flushedBytes;
    private IOException error;
    private RateLimiter rateLimiter = RateLimiter.UNLIMITED;
    private boolean closed;

    public MigrationOutput(WritableByteChannel channel) {
        this(channel, DEFAULT_BUFFER);
    }

    public MigrationOutput(WritableByteChannel channel, int bufferSize) {
        this.channel = channel;
        this.buf = ByteBuffer.allocateDirect(Math.max(64, bufferSize));
    }

    public static MigrationOutput of(OutputStream out) {
        return new MigrationOutput(Channels.newChannel(out));
    }

    public void setRateLimiter(RateLimiter limiter) {
        this.rateLimiter = limiter == null ? RateLimiter.UNLIMITED : limiter;
    }

    /** Total bytes written so far, buffered ones included: the stream position. */
    public long position() {
        return flushedBytes + buf.position();
    }

    public boolean rateLimitExceeded() {
        return error != null || rateLimiter.exceeded(position());
    }

    public IOException error() {
        return error;
    }

    /** Records the first error; later ones are ignored, as QEMU keeps only the first. */
    public void setError(IOException e) {
        if (error == null) {
            error = e;
        }
    }

    public void checkError() throws IOException {
        if (error != null) {
            throw error;
        }
    }

    private void ensure(int n) {
        if (buf.remaining() < n) {
            flushQuietly();
        }
    }

    public MigrationOutput putByte(int v) {
        ensure(1);
        buf.put((byte) v);
        return this;
    }

    public MigrationOutput putBe16(int v) {
        ensure(2);
        buf.putShort((short) v);
        return this;
    }

    public MigrationOutput putBe32(int v) {
        ensure(4);
        buf.putInt(v);
        return this;
    }

    public MigrationOutput putBe64(long v) {
        ensure(8);
        buf.putLong(v);
        return this;
    }

    public MigrationOutput putBytes(byte[] b) {
        return putBytes(b, 0, b.length);
    }

    public MigrationOutput putBytes(byte[] b, int off, int len) {
        if (len >= ZERO_COPY_THRESHOLD) {
            return putBuffer(ByteBuffer.wrap(b, off, len));
        }
        ensure(len);
        buf.put(b, off, len);
        return this;
    }

    /**
     * Writes the remaining bytes of {@code data} (its position advances). Large buffers go straight to
     * the channel in one gathering write with the buffered header bytes.
     */
    public MigrationOutput putBuffer(ByteBuffer data) {
        int len = data.remaining();
        if (len < ZERO_COPY_THRESHOLD && len <= buf.remaining()) {
            buf.put(data);
            return this;
        }
        if (error != null) {
            data.position(data.limit());
            return this;
        }
        buf.flip();
        try {
            if (channel instanceof GatheringByteChannel) {
                GatheringByteChannel g = (GatheringByteChannel) channel;
                ByteBuffer[] both = {buf, data};
                while (buf.hasRemaining() || data.hasRemaining()) {
                    flushedBytes += g.write(both);
                }
            } else {
                while (buf.hasRemaining()) {
                    flushedBytes += channel.write(buf);
                }
                while (data.hasRemaining()) {
                    flushedBytes += channel.write(data);
                }
            }
        } catch (IOException e) {
            setError(e);
            data.position(data.limit());
        } finally {
            buf.clear();
        }
        return this;
    }

    /** u8 length then the bytes, no NUL: QEMU's qemu_put_counted_string. */
    public MigrationOutput putCountedString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 255) {
            throw new IllegalArgumentException("counted string longer than 255 bytes: " + s);
        }
        putByte(b.length);
        return putBytes(b);
    }

    private void flushQuietly() {
        if (error != null) {
            buf.clear();
            return;
        }
        buf.flip();
        try {
            while (buf.hasRemaining()) {
                flushedBytes += channel.write(buf);
            }
        } catch (IOException e) {
            setError(e);
        } finally {
            buf.clear();
        }
    }

    /** Writes out everything buffered; throws the sticky error if there is one. */
    public void flush() throws IOException {
        flushQuietly();
        checkError();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            flushQuietly();
        } finally {
            try {
                channel.close();
            } catch (IOException e) {
                setError(e);
            }
        }
        checkError();
    }
}
