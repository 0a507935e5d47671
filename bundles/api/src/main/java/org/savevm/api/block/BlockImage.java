package org.savevm.api.block;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One open image file (QEMU's BlockDriverState with its backing chain). Offsets and lengths are guest bytes;
 * I/O need not be aligned. Reads go through the backing chain; writes go to this image only.
 *
 * <p>Thread-safe: the guest, the migration and a snapshot may use one image at the same time. Errors are
 * {@link IOException}s that name the file and the offset.
 */
@ProviderType
public interface BlockImage extends Closeable {
    Path path();

    ImageFormat format();

    /** Guest-visible size in bytes (a multiple of 512). */
    long size();

    boolean readOnly();

    /** The backing image, if any (opened read-only with this one, closed with it). */
    Optional<BlockImage> backing();

    /**
     * Reads {@code dst.remaining()} bytes at {@code offset} into {@code dst}, advancing its position to its limit;
     * unallocated parts read as the backing file or zeros.
     */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes {@code src.remaining()} bytes at {@code offset}, advancing {@code src}'s position to its limit. */
    void write(long offset, ByteBuffer src) throws IOException;

    /**
     * Makes {@code [offset, offset+length)} read as zeros, as cheaply as the format allows: raw leaves holes in
     * parts never written and writes zeros elsewhere; qcow2 uses zero clusters for whole clusters.
     */
    void writeZeroes(long offset, long length) throws IOException;

    /** Status of the extent starting at {@code offset}, at most {@code maxLength} long. */
    BlockStatus blockStatus(long offset, long maxLength) throws IOException;

    /**
     * Changes the guest-visible size (QEMU's block_resize / {@code qemu-img resize}); growing reads as zeros.
     * Formats that cannot resize say so.
     */
    default void resize(long newSize) throws IOException {
        throw new IOException(path() + ": resizing " + format().qemuName() + " images is not supported");
    }

    /** How this image's writes meet the page cache and its flushes (QEMU's {@code cache=}). */
    default CacheMode cacheMode() {
        return CacheMode.WRITEBACK;
    }

    /** The image's internal snapshots, when its format has them (qcow2); empty for raw. */
    default Optional<InternalSnapshots> internalSnapshots() {
        return Optional.empty();
    }

    /** Makes every completed write durable (fsync of the file and, for qcow2, of its metadata). */
    void flush() throws IOException;

    /** Flushes and closes; the backing chain is closed too. */
    @Override
    void close() throws IOException;
}
