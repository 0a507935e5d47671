package org.savevm.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.ImageFormat;

/**
 * A raw image held in memory, for tests of code above the image layer: reads and writes at any offset, an
 * injectable I/O error ({@link #failAt}) and a count of the bytes written, so tests can check what a migration
 * moved. Reads and writes advance the buffers' positions.
 */
public final class MemoryBlockImage implements BlockImage {
    private final Path path;
    private final byte[] data;
    private final boolean readOnly;
    private volatile long failOffset = -1;
    private volatile boolean closed;
    private long bytesWritten;

    public MemoryBlockImage(String name, int size) {
        this(name, size, false);
    }

    public MemoryBlockImage(String name, int size, boolean readOnly) {
        if (size % 512 != 0) {
            throw new IllegalArgumentException("size must be a multiple of 512: " + size);
        }
        this.path = Path.of("memory:" + name);
        this.data = new byte[size];
        this.readOnly = readOnly;
    }

    /** From now on any read or write that touches {@code offset} fails with an IOException (-1: none). */
    public void failAt(long offset) {
        failOffset = offset;
    }

    public synchronized long bytesWritten() {
        return bytesWritten;
    }

    /** A copy of the contents. */
    public synchronized byte[] contents() {
        return data.clone();
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public ImageFormat format() {
        return ImageFormat.RAW;
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public Optional<BlockImage> backing() {
        return Optional.empty();
    }

    private void check(long offset, int len, String op) throws IOException {
        if (closed) {
            throw new IOException(path + ": closed");
        }
        if (offset < 0 || offset > data.length - (long) len) {
            throw new IOException(path + ": " + op + " of " + len + " bytes at " + offset + " is past the end");
        }
        long f = failOffset;
        if (f >= 0 && f >= offset && f < offset + Math.max(len, 1)) {
            throw new IOException(path + ": injected I/O error at " + f);
        }
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        int len = dst.remaining();
        check(offset, len, "read");
        dst.put(data, (int) offset, len);
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src) throws IOException {
        int len = src.remaining();
        check(offset, len, "write");
        if (readOnly) {
            throw new IOException(path + ": read-only");
        }
        src.get(data, (int) offset, len);
        bytesWritten += len;
    }

    @Override
    public synchronized void writeZeroes(long offset, long length) throws IOException {
        check(offset, (int) length, "write zeroes");
        java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
    }

    @Override
    public synchronized BlockStatus blockStatus(long offset, long maxLength) throws IOException {
        check(offset, 1, "block status");
        long len = Math.min(maxLength, data.length - offset);
        return new BlockStatus(offset, len, true, false, 0, true);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        closed = true;
    }
}
