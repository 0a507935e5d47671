package org.savevm.block.internal;

import java.nio.ByteBuffer;

import org.savevm.block.codec.BlockFlags;

/** The 1 MiB chunk buffers of both sessions' fixed pools. */
final class ChunkBuffers {
    /**
     * Memory alignment of a chunk buffer: eight sectors, the host's page. An image may then move the chunk with
     * {@code O_DIRECT} (the raw image does for large aligned transfers), which needs memory aligned to the logical
     * block size; a plain direct buffer starts 16 bytes into its page.
     */
    static final int ALIGNMENT = 8 * BlockFlags.SECTOR_SIZE;

    private ChunkBuffers() {
    }

    /** A direct buffer of one chunk, page-aligned, position 0 and limit 1 MiB. */
    static ByteBuffer allocate() {
        return ByteBuffer.allocateDirect(BlockFlags.CHUNK_SIZE + ALIGNMENT).alignedSlice(ALIGNMENT)
                .limit(BlockFlags.CHUNK_SIZE).slice();
    }
}
