package org.savevm.api.block;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A disk of the machine: an image attached under a device name (QEMU's {@code -drive id=NAME} behind a device).
 * Every guest write through the drive marks the 1 MiB chunks it touches in the drive's dirty log, which
 * {@link #syncDirtyChunks} hands to one consumer, as QEMU's dirty bitmap with BLK_MIG_BLOCK_SIZE granularity does.
 */
@ProviderType
public interface BlockDrive {
    /** Bytes per chunk of the dirty log and of block migration (QEMU's BLK_MIG_BLOCK_SIZE). */
    int CHUNK_SIZE = 1 << 20;

    /** Sector size of block migration's offsets. */
    int SECTOR_SIZE = 512;

    /** The device name QEMU uses in the "block" section (the drive id), e.g. {@code disk0}. */
    String name();

    BlockImage image();

    /** Guest-visible size in bytes. */
    default long size() {
        return image().size();
    }

    /** Number of chunks, the last one possibly short. */
    default long chunks() {
        return (size() + CHUNK_SIZE - 1) / CHUNK_SIZE;
    }

    boolean readOnly();

    /**
     * Makes the guest's writes to this drive wait until the returned handle is closed (a live snapshot keeps the
     * disks at its instant while RAM goes on). Close it from the thread that took it.
     */
    default AutoCloseable holdWrites() {
        throw new UnsupportedOperationException("drive " + name() + " cannot hold its writes");
    }

    /** A guest write: goes to the image and marks the touched chunks dirty. */
    void write(long offset, ByteBuffer src) throws IOException;

    /** A guest read. */
    default void read(long offset, ByteBuffer dst) throws IOException {
        image().read(offset, dst);
    }

    /**
     * Fetches and clears the dirty log, ORing it into {@code bitmap} (bit {@code i} of word {@code i/64} is chunk
     * {@code i}). A concurrent write is in this sync or the next, never lost. Returns the newly set bits.
     */
    long syncDirtyChunks(long[] bitmap);

    /**
     * Holds the drive for a migration or snapshot: while held, resizing or detaching the drive is refused with
     * an error naming {@code holder}. Closing the returned handle releases it.
     */
    AutoCloseable hold(String holder);

    /**
     * A hash of the guest-visible bytes (hex), to compare both ends of a migration: SHA-256 over the CRC-32C and
     * CRC-32 of every 4 KiB block (as {@code Machine.ramHash()} does for RAM: intrinsics even in C1-compiled code).
     */
    String contentHash() throws IOException;
}
