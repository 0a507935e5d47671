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
 * Buffered big-endian writer of a migration stream, the QEMUFile role. Small values go into an internal
 * direct buffer. Large direct buffers (RAM pages) are not copied: like QEMUFile's iovec list, they are
 * queued by reference between slices of the internal buffer and go out in one gathering write (writev)
 * per batch, when the channel is a {@link GatheringByteChannel}. Heap buffers (which their owner may
 * reuse at once) and every buffer for a non-gathering channel are copied into the internal buffer.
 *
 * <p>A queued page is read by the kernel only at the next flush: a guest write in between goes out
 * with it, and is also caught by the dirty log, as in QEMU. Callers must not reuse a direct buffer they
 * passed until the next {@link #flush()}.
 *
 * <p>The first I/O error is sticky, like QEMU's qemu_file_set_error: later writes are dropped and
 * {@link #checkError()} rethrows it. Not thread-safe: one writer thread per stream.
 */
public final class MigrationOutput implements Closeable {
    private static final int DEFAULT_BUFFER = 64 * 1024;
    /** Buffers at least this long skip the internal copy. */
    private static final int ZERO_COPY_THRESHOLD = 2048;
    /** Queued entries per gathering write: 511 pages with their headers and the trailing segment, IOV_MAX (1024) on Linux. */
    private static final int MAX_IOV = 1023;
    /** Queued bytes that trigger a gathering write. */
    private static final long BATCH_BYTES = 2 * 1024 * 1024;

    private final WritableByteChannel channel;
    private final GatheringByteChannel gathering;
    private final ByteBuffer buf;
    /** Start in {@link #buf} of the bytes not yet queued as an iovec entry. */
    private int segmentStart;
    /** Entries waiting for the next gathering write; one spare slot for the trailing buffer segment. */
    private final ByteBuffer[] iov = new ByteBuffer[MAX_IOV + 1];
    private int iovCount;
    private long queuedBytes;
    private long flushedBytes;
    private IOException error;
    private RateLimiter rateLimiter = RateLimiter.UNLIMITED;
    private boolean closed;

    public MigrationOutput(WritableByteChannel channel) {
        this(channel, DEFAULT_BUFFER);
    }

    public MigrationOutput(WritableByteChannel channel, int bufferSize) {
        this.channel = channel;
        this.gathering = channel instanceof GatheringByteChannel g ? g : null;
        this.buf = ByteBuffer.allocateDirect(Math.max(64, bufferSize));
    }

    public static MigrationOutput of(OutputStream out) {
        return new MigrationOutput(Channels.newChannel(out));
    }

    public void setRateLimiter(RateLimiter limiter) {
        this.rateLimiter = limiter == null ? RateLimiter.UNLIMITED : limiter;
    }

    /** Total bytes written so far, buffered and queued ones included: the stream position. */
    public long position() {
        return flushedBytes + queuedBytes + buf.position() - segmentStart;
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

    /** Copied into the buffer: the caller may reuse the array at once. */
    public MigrationOutput putBytes(byte[] b, int off, int len) {
        copyIn(ByteBuffer.wrap(b, off, len));
        return this;
    }

    /**
     * Writes the remaining bytes of {@code data} (its position advances). A large direct buffer is queued
     * by reference for the next gathering write; anything else is copied.
     */
    public MigrationOutput putBuffer(ByteBuffer data) {
        int len = data.remaining();
        if (gathering == null || !data.isDirect() || len < ZERO_COPY_THRESHOLD) {
            copyIn(data);
            return this;
        }
        if (error != null) {
            data.position(data.limit());
            return this;
        }
        if (iovCount + 2 > MAX_IOV) {
            flushQuietly();
        }
        queueBufferedSegment();
        iov[iovCount++] = data.slice();
        queuedBytes += len;
        data.position(data.limit());
        if (queuedBytes >= BATCH_BYTES) {
            flushQuietly();
        }
        return this;
    }

    private void copyIn(ByteBuffer data) {
        while (data.hasRemaining()) {
            if (!buf.hasRemaining()) {
                flushQuietly();
            }
            int n = Math.min(data.remaining(), buf.remaining());
            buf.put(buf.position(), data, data.position(), n);
            buf.position(buf.position() + n);
            data.position(data.position() + n);
        }
    }

    /** Bytes put since the last queued entry become an entry of their own (a slice, not a copy). */
    private void queueBufferedSegment() {
        int end = buf.position();
        if (end > segmentStart) {
            iov[iovCount++] = buf.slice(segmentStart, end - segmentStart);
            queuedBytes += end - segmentStart;
            segmentStart = end;
        }
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

    /** Writes out the queue and the buffer; an error becomes sticky and drops what was pending. */
    private void flushQuietly() {
        try {
            if (error == null) {
                if (iovCount == 0) {
                    buf.flip();
                    while (buf.hasRemaining()) {
                        flushedBytes += channel.write(buf);
                    }
                } else {
                    queueBufferedSegment();
                    long left = queuedBytes;
                    while (left > 0) {
                        long n = gathering.write(iov, 0, iovCount);
                        left -= n;
                        flushedBytes += n;
                    }
                }
            }
        } catch (IOException e) {
            setError(e);
        } finally {
            for (int i = 0; i < iovCount; i++) {
                iov[i] = null;
            }
            iovCount = 0;
            queuedBytes = 0;
            segmentStart = 0;
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
