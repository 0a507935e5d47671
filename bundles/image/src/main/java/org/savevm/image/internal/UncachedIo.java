package org.savevm.image.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;

/**
 * A second channel on an image file that bypasses the page cache ({@code O_DIRECT}, what QEMU opens with
 * {@code cache.direct=on}), for the large aligned transfers of a whole-disk stream, plus a probe of which pages of
 * the file the page cache holds ({@code mincore} through a read-only mapping).
 *
 * <p>Reads: a buffered read of a hole makes the kernel allocate and zero page-cache pages for it; on this project's
 * 2-vCPU VM that cost up to 2.5 s per 512 MiB when the pages were cold, while the same read through {@code O_DIRECT}
 * took 20 ms (holes are zero-filled without the page cache). So large reads of ranges the page cache does not hold
 * go this way in every cache mode; data the page cache already holds is still read through it (an uncached read of
 * cached data would go to the device for nothing).
 *
 * <p>Writes go this way only when the drive's cache mode asks for it ({@code cache=none} or {@code directsync}).
 * Which is faster depends on the machine: one session measured buffered writes of a fresh 512 MiB at 1.1-4.6 s
 * against 0.35 s with {@code O_DIRECT}; on 2026-12-03 (session 9) the same VM did them at 3 GB/s buffered and
 * 1.2-1.3 GB/s direct (dd), and the demo's 1 GiB block migration went 938 -> 819 ms (median of 7 interleaved runs)
 * when its destination wrote through the page cache — QEMU's default, {@code cache=writeback}, which is ours too.
 *
 * <p>Coherence between the two channels is the kernel's: an {@code O_DIRECT} read first writes back dirty cached
 * pages of its range, an {@code O_DIRECT} write invalidates them.
 *
 * <p>Transfers are eligible when offset, length and the buffer's memory address are multiples of
 * {@link #ALIGNMENT} and the length is at least {@link #MIN_LENGTH}; everything else stays buffered. Where the
 * file system refuses {@code O_DIRECT} (or the JDK lacks it) {@link #open} returns empty and the image stays
 * buffered. Thread-safe: positional I/O only; the mapping windows are created once under the lock.
 */
public final class UncachedIo implements AutoCloseable {
    /**
     * Alignment of offsets, lengths and memory for {@code O_DIRECT}: eight 512-byte sectors, which covers every
     * logical block size in use (512-byte and 4 KiB-sector devices) and the host's page.
     */
    public static final int ALIGNMENT = 8 * 512;
    /** Shorter transfers (a guest's 4 KiB writes, metadata) keep the page cache. */
    public static final int MIN_LENGTH = 256 * 1024;
    /** Span of one read-only mapping used for the residency probe. */
    private static final long WINDOW = 1L << 30;

    private final Path path;
    private final FileChannel direct;
    private final FileChannel cached;
    /** Replaced (never changed) under the lock; read without it. */
    private volatile Windows windows = new Windows(new MappedByteBuffer[0], 0);

    private UncachedIo(Path path, FileChannel direct, FileChannel cached) {
        this.path = path;
        this.direct = direct;
        this.cached = cached;
    }

    /**
     * Opens the uncached channel next to {@code cached} (the image's buffered channel, used for the residency probe),
     * or empty when the file system or the JDK does not offer {@code O_DIRECT}.
     */
    public static Optional<UncachedIo> open(Path path, FileChannel cached, boolean readOnly) {
        Optional<OpenOption> directOption = directOption();
        if (directOption.isEmpty()) {
            return Optional.empty();
        }
        try {
            FileChannel ch = readOnly ? FileChannel.open(path, StandardOpenOption.READ, directOption.get())
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE, directOption.get());
            return Optional.of(new UncachedIo(path, ch, cached));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // e.g. EINVAL from a file system without O_DIRECT: the image stays buffered
            return Optional.empty();
        }
    }

    /**
     * {@code com.sun.nio.file.ExtendedOpenOption.DIRECT} (module jdk.unsupported) without importing its package,
     * which the OSGi framework need not export: looked up through the system class loader.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Optional<OpenOption> directOption() {
        try {
            Class<?> c = Class.forName("com.sun.nio.file.ExtendedOpenOption", true, ClassLoader.getSystemClassLoader());
            return Optional.of((OpenOption) Enum.valueOf((Class) c, "DIRECT"));
        } catch (ReflectiveOperationException | IllegalArgumentException | LinkageError | SecurityException e) {
            return Optional.empty();
        }
    }

    /** Whether a transfer of {@code buf.remaining()} bytes at {@code offset} may bypass the page cache. */
    public static boolean eligible(long offset, ByteBuffer buf) {
        int len = buf.remaining();
        return len >= MIN_LENGTH && offset % ALIGNMENT == 0 && len % ALIGNMENT == 0 && buf.isDirect()
                && buf.alignmentOffset(buf.position(), ALIGNMENT) == 0;
    }

    /** A direct buffer of {@code capacity} bytes whose memory starts on an {@link #ALIGNMENT} boundary. */
    public static ByteBuffer allocateAligned(int capacity) {
        return ByteBuffer.allocateDirect(capacity + ALIGNMENT).alignedSlice(ALIGNMENT).limit(capacity).slice();
    }

    /** Reads like {@link FileIo#readOrZero} without the page cache; {@code dst} must be {@link #eligible}. */
    public void readOrZero(long offset, ByteBuffer dst) throws IOException {
        FileIo.readOrZero(direct, path, offset, dst);
    }

    /** Writes like {@link FileIo#writeFully} without the page cache; {@code src} must be {@link #eligible}. */
    public void writeFully(long offset, ByteBuffer src) throws IOException {
        FileIo.writeFully(direct, path, offset, src);
    }

    /**
     * True when every page of {@code [offset, offset+length)} is in the page cache (then a buffered read is a
     * copy from memory). False when any page is not, which includes holes never read. A range past the mapped
     * part of the file, or a failed probe, counts as resident, so that the caller keeps the ordinary buffered read.
     */
    public boolean resident(long offset, int length) {
        long end = offset + length;
        Windows w;
        try {
            w = windows(end);
        } catch (IOException | RuntimeException e) {
            return true;
        }
        if (end > w.size()) {
            return true;
        }
        for (long at = offset; at < end; ) {
            int i = (int) (at / WINDOW);
            long windowStart = i * WINDOW;
            int n = (int) Math.min(end - at, windowStart + WINDOW - at);
            if (!w.maps()[i].slice((int) (at - windowStart), n).isLoaded()) {
                return false;
            }
            at += n;
        }
        return true;
    }

    /** Read-only mappings of the first {@code size} bytes of the file, one per {@link #WINDOW}. */
    private record Windows(MappedByteBuffer[] maps, long size) {
    }

    /** The windows covering at least {@code [0, end)} of the file if it is that long, mapped again as it grows. */
    private synchronized Windows windows(long end) throws IOException {
        Windows w = windows;
        if (end <= w.size()) {
            return w;
        }
        long fileSize = cached.size();
        if (fileSize <= w.size()) {
            return w;
        }
        int count = (int) ((fileSize + WINDOW - 1) / WINDOW);
        MappedByteBuffer[] maps = Arrays.copyOf(w.maps(), count);
        for (int i = 0; i < count; i++) {
            long start = i * WINDOW;
            long len = Math.min(WINDOW, fileSize - start);
            if (maps[i] == null || maps[i].capacity() < len) {
                maps[i] = cached.map(FileChannel.MapMode.READ_ONLY, start, len);
            }
        }
        windows = new Windows(maps, fileSize);
        return windows;
    }

    @Override
    public void close() throws IOException {
        direct.close();
    }
}
