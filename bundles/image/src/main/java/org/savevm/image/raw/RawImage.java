package org.savevm.image.raw;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.FileIo;

/**
 * A raw image: the file's bytes are the guest's bytes (QEMU's block/raw-format.c over file-posix.c).
 *
 * <p>Java has neither {@code SEEK_DATA}/{@code SEEK_HOLE} nor {@code fallocate(PUNCH_HOLE)}, so two things QEMU
 * asks the file system are answered from the data instead:
 * <ul>
 * <li>{@link #writeZeroes} reads each 64 KiB piece first and writes zeros only where the piece does not already read
 * as zeros. A hole (never written) reads as zeros and so stays a hole; a piece that held data gets real zero
 * blocks (QEMU would punch a hole there; the guest-visible bytes are the same).</li>
 * <li>{@link #blockStatus} scans the data in 64 KiB pieces: an extent that reads as zeros is reported
 * {@code zero=true, data=false} (what {@code qemu-img map} says of a hole), anything else {@code data=true}. Where
 * the guest wrote zeros on purpose QEMU still says "data" and we say "zero": same bytes, and block migration
 * wants exactly that answer. One call scans at most {@link #MAX_SCAN} bytes, so its cost is bounded; a raw
 * image is always allocated in itself (depth 0), as QEMU's bdrv_is_allocated says of a raw file.</li>
 * </ul>
 * Thread-safe: only positional I/O on one channel.
 */
public final class RawImage implements BlockImage {
    /** Granularity of the zero scans of writeZeroes and blockStatus. */
    static final int SCAN_PIECE = 1 << 16;
    /** Most bytes one blockStatus call reads. */
    static final long MAX_SCAN = 16L << 20;

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    /** Changes only through {@link #resize}, which the machine refuses while a migration holds the drive. */
    private volatile long size;

    private RawImage(Path path, FileChannel channel, boolean readOnly) throws IOException {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.size = channel.size();
    }

    public static RawImage open(Path file, boolean readOnly) throws IOException {
        FileChannel ch = readOnly ? FileChannel.open(file, StandardOpenOption.READ)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        if (!readOnly) {
            try {
                FileIo.lockForWriting(ch, file);
            } catch (IOException e) {
                ch.close();
                throw e;
            }
        }
        return new RawImage(file, ch, readOnly);
    }

    /** A sparse file of {@code size} bytes: {@code setLength} extends it with a hole, nothing is written. */
    public static RawImage create(Path file, long size) throws IOException {
        if (size < 0 || size % 512 != 0) {
            throw new IOException(file + ": raw image size " + size + " is not a non-negative multiple of 512");
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
        FileIo.lockForWriting(ch, file);
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        } catch (IOException e) {
            ch.close();
            throw new IOException(file + ": cannot set size " + size + ": " + e.getMessage(), e);
        }
        return new RawImage(file, ch, false);
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
        FileIo.checkRange(path, offset, dst.remaining(), size);
        // The file may have been truncated under us; what is missing reads as zeros, as a hole would.
        FileIo.readOrZero(channel, path, offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkWritable();
        FileIo.checkRange(path, offset, src.remaining(), size);
        FileIo.writeFully(channel, path, offset, src);
    }

    /**
     * block_resize of a raw file: shrinking truncates, growing extends it with a hole (nothing is written), as
     * QEMU's raw driver does with ftruncate.
     */
    @Override
    public synchronized void resize(long newSize) throws IOException {
        checkWritable();
        if (newSize < 0 || newSize % 512 != 0) {
            throw new IOException(path + ": new size " + newSize + " is not a non-negative multiple of 512");
        }
        if (newSize < channel.size()) {
            channel.truncate(newSize);
        } else if (newSize > channel.size()) {
            // FileChannel cannot extend a file without writing; setLength through a second descriptor makes a hole
            try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(path.toFile(), "rw")) {
                raf.setLength(newSize);
            }
        }
        size = newSize;
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        checkWritable();
        FileIo.checkRange(path, offset, length, size);
        // direct: the file channel reads into it without a bounce copy
        ByteBuffer piece = ByteBuffer.allocateDirect(SCAN_PIECE);
        long at = offset;
        long end = offset + length;
        while (at < end) {
            int n = (int) Math.min(end - at, SCAN_PIECE - (at % SCAN_PIECE));
            piece.clear().limit(n);
            FileIo.readOrZero(channel, path, at, piece);
            piece.flip();
            if (!FileIo.isZero(piece)) {
                piece.clear().limit(n);
                FileIo.fillZero(piece);
                piece.flip();
                FileIo.writeFully(channel, path, at, piece);
            }
            at += n;
        }
    }

    @Override
    public BlockStatus blockStatus(long offset, long maxLength) throws IOException {
        if (offset < 0 || offset >= size || maxLength <= 0) {
            throw new IOException(path + ": block status at offset " + offset + " (+" + maxLength
                    + ") outside the image (size " + size + ")");
        }
        long end = Math.min(size, offset + Math.min(maxLength, MAX_SCAN));
        ByteBuffer piece = ByteBuffer.allocate(SCAN_PIECE);
        long at = offset;
        Boolean zero = null;
        while (at < end) {
            int n = (int) Math.min(end - at, SCAN_PIECE - (at % SCAN_PIECE));
            piece.clear().limit(n);
            FileIo.readOrZero(channel, path, at, piece);
            piece.flip();
            boolean z = FileIo.isZero(piece);
            if (zero == null) {
                zero = z;
            } else if (z != zero) {
                break;
            }
            at += n;
        }
        return new BlockStatus(offset, at - offset, !zero, zero, 0, true);
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            try {
                channel.force(true);
            } catch (IOException e) {
                throw new IOException(path + ": flush failed: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            channel.close();
        }
    }

    private void checkWritable() throws IOException {
        if (readOnly) {
            throw new IOException(path + ": image is opened read-only");
        }
    }

    @Override
    public String toString() {
        return "raw image " + path;
    }
}
