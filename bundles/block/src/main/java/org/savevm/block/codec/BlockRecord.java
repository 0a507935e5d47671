package org.savevm.block.codec;

/**
 * One decoded record header of a "block" section. For a device block the data (unless {@link #zero()}) follows
 * in the stream and is read with {@link BlockRecordReader#readData} or skipped with
 * {@link BlockRecordReader#skipData}.
 *
 * @param at     stream offset of the record's be64
 * @param flags  the flag bits
 * @param sector the sector of a device block, the percentage of a progress record, else 0
 * @param device the device name of a device block, else null
 */
public record BlockRecord(long at, int flags, long sector, String device) {
    public boolean deviceBlock() {
        return (flags & BlockFlags.DEVICE_BLOCK) != 0;
    }

    public boolean zero() {
        return (flags & BlockFlags.ZERO_BLOCK) != 0;
    }

    public boolean progress() {
        return (flags & BlockFlags.PROGRESS) != 0 && !deviceBlock();
    }

    public boolean eos() {
        return (flags & BlockFlags.EOS) != 0;
    }

    /** Byte offset in the device of a device block. */
    public long offset() {
        return sector << BlockFlags.SECTOR_BITS;
    }

    /** The percentage of a progress record. */
    public int percent() {
        return (int) sector;
    }

    /** Whether data bytes ({@link BlockFlags#CHUNK_SIZE} of them) follow this header. */
    public boolean hasData() {
        return deviceBlock() && !zero();
    }

    /**
     * Bytes of the device this chunk covers: a whole chunk, or what is left of a device of {@code deviceSize}
     * bytes (the short last chunk, as QEMU's loader computes nr_sectors).
     */
    public int length(long deviceSize) {
        return (int) Math.min(BlockFlags.CHUNK_SIZE, deviceSize - offset());
    }
}
