package org.savevm.image.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

import org.savevm.api.block.CacheMode;

/**
 * Positional I/O on an image file that always transfers the whole buffer, with errors that name the file and the
 * byte offset. Positional calls never move the channel's position, so many threads may use one channel at once.
 */
public final class FileIo {
    private FileIo() {
    }

    /** Reads {@code dst.remaining()} bytes at {@code pos}; a short file is an error naming where it ended. */
    public static void readFully(FileChannel ch, Path file, long pos, ByteBuffer dst) throws IOException {
        long at = pos;
        while (dst.hasRemaining()) {
            int n;
            try {
                n = ch.read(dst, at);
            } catch (IOException e) {
                throw new IOException(file + ": read error at offset " + at + ": " + e.getMessage(), e);
            }
            if (n < 0) {
                throw new EOFException(file + ": unexpected end of file at offset " + at + " (reading "
                        + (dst.remaining()) + " more bytes from offset " + pos + ")");
            }
            at += n;
        }
    }

    /** Reads what the file has at {@code pos} and zero-fills the rest of {@code dst} (a file shorter than its size). */
    public static void readOrZero(FileChannel ch, Path file, long pos, ByteBuffer dst) throws IOException {
        long at = pos;
        while (dst.hasRemaining()) {
            int n;
            try {
                n = ch.read(dst, at);
            } catch (IOException e) {
                throw new IOException(file + ": read error at offset " + at + ": " + e.getMessage(), e);
            }
            if (n < 0) {
                fillZero(dst);
                return;
            }
            at += n;
        }
    }

    /**
     * The end of a write in cache mode {@code cache}: with writethrough and directsync the file's data (and what
     * is needed to read it back) is on the disk before the write counts as done (QEMU's implied flush).
     */
    public static void syncAfterWrite(FileChannel ch, Path file, CacheMode cache) throws IOException {
        if (cache.syncEveryWrite()) {
            try {
                ch.force(false);
            } catch (IOException e) {
                throw new IOException(file + ": sync after a write failed: " + e.getMessage(), e);
            }
        }
    }

    public static void writeFully(FileChannel ch, Path file, long pos, ByteBuffer src) throws IOException {
        long at = pos;
        while (src.hasRemaining()) {
            try {
                at += ch.write(src, at);
            } catch (IOException e) {
                throw new IOException(file + ": write error at offset " + at + ": " + e.getMessage(), e);
            }
        }
    }

    public static void fillZero(ByteBuffer dst) {
        while (dst.remaining() >= Long.BYTES) {
            dst.putLong(0L);
        }
        while (dst.hasRemaining()) {
            dst.put((byte) 0);
        }
    }

    /** Zeros to compare with: read-only, shared by all images (never written, so no state). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    /**
     * True when every remaining byte of {@code buf} is zero (position unchanged). Compared with
     * {@link ByteBuffer#mismatch}, which runs word-wise through Unsafe even in C1-compiled code (the demo's children
     * run C1 only: a getLong loop over a heap buffer made a 1 GiB destination spend seconds here).
     */
    public static boolean isZero(ByteBuffer buf) {
        ByteBuffer b = buf.duplicate();
        while (b.hasRemaining()) {
            int n = Math.min(b.remaining(), ZEROS.capacity());
            ByteBuffer part = b.slice().limit(n);
            if (part.mismatch(ZEROS.duplicate().limit(n)) >= 0) {
                return false;
            }
            b.position(b.position() + n);
        }
        return true;
    }

    public static void checkRange(Path file, long offset, long length, long size) throws IOException {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw new IOException(file + ": request [" + offset + ", +" + length + ") outside the image (size "
                    + size + ")");
        }
    }
}
