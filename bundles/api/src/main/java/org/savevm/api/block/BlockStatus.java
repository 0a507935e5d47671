package org.savevm.api.block;

/**
 * Allocation status of one extent of an image, as QEMU's block-status / {@code qemu-img map} reports it.
 *
 * @param offset    guest offset of the extent, bytes
 * @param length    length of the extent, bytes (&gt; 0); the status holds for all of it
 * @param data      the extent is stored as data somewhere in the chain (reads may still return zeros)
 * @param zero      reads of the extent return zeros (a hole, a zero cluster, or past a short backing file)
 * @param depth     how many layers down the extent is found: 0 = the top image, 1 = its backing file, …;
 *                  for an extent allocated nowhere, the depth of the bottom of the chain plus one
 * @param allocated the extent is allocated in the top image itself (QEMU's bdrv_is_allocated): what
 *                  {@code block-incremental} sends
 */
public record BlockStatus(long offset, long length, boolean data, boolean zero, int depth, boolean allocated) {
    public BlockStatus {
        if (offset < 0 || length <= 0 || depth < 0) {
            throw new IllegalArgumentException("bad extent offset=" + offset + " length=" + length + " depth=" + depth);
        }
    }

    public long end() {
        return offset + length;
    }
}
