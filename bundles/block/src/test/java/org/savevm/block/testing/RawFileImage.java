package org.savevm.block.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.ImageFormat;

/**
 * A test image over a raw file (positional FileChannel I/O; zeroes written only where the file is not zero
 * already, so holes stay holes), until the image bundle's images are merged. Optional faults: a read or write
 * error from a given offset on.
 */
public final class RawFileImage implements BlockImage {
    private static final int CHUNK = 1 << 20;
    private final Path path;
    private final FileChannel ch;
    private final long size;
    private final boolean readOnly;
    /** Reads at or past this offset fail (Long.MAX_VALUE: never). */
    public volatile long failReadsFrom = Long.MAX_VALUE;
    /** Writes at or past this offset fail. */
    public volatile long failWritesFrom = Long.MAX_VALUE;

    private RawFileImage(Path path, long size, boolean readOnly) throws IOException {
        this.path = path;
        this.readOnly = readOnly;
        this.ch = readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.size = size;
    }

    /** Creates a sparse raw file of {@code size} bytes and opens it. */
    public static RawFileImage create(Path path, long size) throws IOException {
        try (FileChannel c = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            if (size > 0) {
                c.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        return open(path, false);
    }

    /** Opens an existing raw file. */
    public static RawFileImage open(Path path, boolean readOnly) throws IOException {
        return new RawFileImage(path, Files.size(path), readOnly);
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
        return size;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public Optional<BlockImage> backing() {
        return Optional.empty();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (offset + dst.remaining() > failReadsFrom) {
            throw new IOException(path + ": injected read error at offset " + offset);
        }
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (readOnly) {
            throw new IOException(path + ": read-only");
        }
        if (offset + src.remaining() > failWritesFrom) {
            throw new IOException(path + ": No space left on device (injected) at offset " + offset);
        }
        if (offset + src.remaining() > size) {
            throw new IOException(path + ": write past the end at offset " + offset);
        }
        long pos = offset;
        while (src.hasRemaining()) {
            pos += ch.write(src, pos);
        }
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        ByteBuffer z = ByteBuffer.allocate((int) Math.min(length, CHUNK));
        long pos = offset;
        long end = offset + length;
        ByteBuffer cur = ByteBuffer.allocate(z.capacity());
        while (pos < end) {
            int n = (int) Math.min(z.capacity(), end - pos);
            cur.clear().limit(n);
            read(pos, cur);
            cur.flip();
            if (cur.mismatch(z.duplicate().limit(n)) >= 0) {
                z.clear().limit(n);
                write(pos, z);
            }
            pos += n;
        }
    }

    @Override
    public BlockStatus blockStatus(long offset, long maxLength) {
        return new BlockStatus(offset, Math.min(maxLength, size - offset), true, false, 0, true);
    }

    @Override
    public void flush() throws IOException {
        ch.force(true);
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
