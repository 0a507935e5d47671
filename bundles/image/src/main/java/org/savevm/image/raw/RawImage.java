package org.savevm.image.raw;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.CacheMode;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.FileIo;
import org.savevm.image.internal.ImageLocks;
import org.savevm.image.internal.UncachedIo;

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
 * Writes follow the image's {@link CacheMode} (QEMU's {@code cache=}): through the page cache (writeback, the
 * default, as QEMU's), or, with {@code cache=none} or {@code directsync}, writes of at least 256 KiB bypass it
 * ({@link UncachedIo}, {@code O_DIRECT}; smaller or unaligned ones stay buffered); writethrough and directsync sync
 * each write, unsafe ignores flushes. Reads of at least 256 KiB whose pages the page cache does not hold bypass it
 * in every mode (holes never read above all, which the kernel then zero-fills without allocating cache pages): the
 * bytes are the same, and a whole-disk migration reads each chunk once. The zero checks of {@link #writeZeroes}
 * read that way too.
 * Thread-safe: only positional I/O on the file's channels.
 */
public final class RawImage implements BlockImage {
    /** Granularity of the zero scans of writeZeroes and blockStatus. */
    static final int SCAN_PIECE = 1 << 16;
    /** Most bytes one blockStatus call reads. */
    static final long MAX_SCAN = 16L << 20;
    /** writeZeroes reads this much at a time (aligned, so that it can bypass the page cache) and checks it by piece. */
    static final int ZERO_CHECK_SPAN = 1 << 20;
    /** Scratch spans kept for writeZeroes between calls (more concurrent callers allocate their own). */
    private static final int KEPT_SCRATCH = 4;
    /** Zeros to write from: read-only, shared. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(SCAN_PIECE).asReadOnlyBuffer();

    private final Path path;
    private final FileChannel channel;
    /** QEMU's lock bytes on the file: a QEMU (or another savevm) does not write it while we use it. */
    private final ImageLocks locks;
    private final boolean readOnly;
    private final CacheMode cache;
    /** The O_DIRECT side of the file, or null where the file system has none. */
    private final UncachedIo uncached;
    private final ConcurrentLinkedQueue<ByteBuffer> scratch = new ConcurrentLinkedQueue<>();
    /** Changes only through {@link #resize}, which the machine refuses while a migration holds the drive. */
    private volatile long size;

    private RawImage(Path path, FileChannel channel, ImageLocks locks, boolean readOnly, CacheMode cache)
            throws IOException {
        this.path = path;
        this.channel = channel;
        this.locks = locks;
        this.readOnly = readOnly;
        this.cache = cache;
        this.size = channel.size();
        this.uncached = UncachedIo.open(path, channel, readOnly).orElse(null);
        if (cache.direct() && !readOnly && uncached == null) {
            // QEMU refuses the open too: the mode was asked for, a silent fallback would not honour it
            throw new IOException(path + ": cache=" + cache.qemuName() + " needs O_DIRECT, which the file system"
                    + " does not offer; use cache=writeback or writethrough");
        }
    }

    /** Opens in cache mode writeback. */
    public static RawImage open(Path file, boolean readOnly) throws IOException {
        return open(file, readOnly, CacheMode.WRITEBACK);
    }

    public static RawImage open(Path file, boolean readOnly, CacheMode cache) throws IOException {
        ImageLocks locks = ImageLocks.forImage(file, false, readOnly);
        FileChannel ch = null;
        try {
            ch = readOnly ? FileChannel.open(file, StandardOpenOption.READ)
                    : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            return new RawImage(file, ch, locks, readOnly, cache);
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            locks.close();
            throw e;
        }
    }

    /** A sparse file of {@code size} bytes: {@code setLength} extends it with a hole, nothing is written. */
    public static RawImage create(Path file, long size) throws IOException {
        if (size < 0 || size % 512 != 0) {
            throw new IOException(file + ": raw image size " + size + " is not a non-negative multiple of 512");
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        } catch (IOException e) {
            ch.close();
            throw new IOException(file + ": cannot set size " + size + ": " + e.getMessage(), e);
        }
        // locked after the second descriptor closed, which would have dropped the locks
        ImageLocks locks;
        try {
            locks = ImageLocks.forImage(file, false, false);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        try {
            return new RawImage(file, ch, locks, false, CacheMode.WRITEBACK);
        } catch (IOException | RuntimeException e) {
            ch.close();
            locks.close();
            throw e;
        }
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
        if (uncached != null && UncachedIo.eligible(offset, dst) && !uncached.resident(offset, dst.remaining())) {
            uncached.readOrZero(offset, dst);
        } else {
            FileIo.readOrZero(channel, path, offset, dst);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkWritable();
        FileIo.checkRange(path, offset, src.remaining(), size);
        if (cache.direct() && uncached != null && UncachedIo.eligible(offset, src)) {
            uncached.writeFully(offset, src);
        } else {
            FileIo.writeFully(channel, path, offset, src);
        }
        FileIo.syncAfterWrite(channel, path, cache);
    }

    @Override
    public CacheMode cacheMode() {
        return cache;
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
            } finally {
                locks.apply(); // closing that descriptor dropped the process's locks on the file
            }
        }
        size = newSize;
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        checkWritable();
        FileIo.checkRange(path, offset, length, size);
        ByteBuffer span = scratch.poll();
        if (span == null) {
            span = UncachedIo.allocateAligned(ZERO_CHECK_SPAN);
        }
        try {
            long at = offset;
            long end = offset + length;
            while (at < end) {
                int n = (int) Math.min(end - at, ZERO_CHECK_SPAN - (at % ZERO_CHECK_SPAN));
                span.clear().limit(n);
                read(at, span);
                // zeros go only where a piece does not read as zeros already: holes stay holes
                for (int p = 0; p < n; ) {
                    int k = (int) Math.min(n - p, SCAN_PIECE - ((at + p) % SCAN_PIECE));
                    if (!FileIo.isZero(span.limit(p + k).position(p))) {
                        FileIo.writeFully(channel, path, at + p, ZEROS.duplicate().limit(k));
                    }
                    p += k;
                }
                at += n;
            }
            FileIo.syncAfterWrite(channel, path, cache);
        } finally {
            if (scratch.size() < KEPT_SCRATCH) {
                scratch.add(span);
            }
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
        if (!readOnly && !cache.ignoreFlush()) {
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
            try {
                if (uncached != null) {
                    uncached.close();
                }
            } finally {
                try {
                    channel.close();
                } finally {
                    locks.close();
                }
            }
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
