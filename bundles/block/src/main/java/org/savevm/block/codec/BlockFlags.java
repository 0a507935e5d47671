package org.savevm.block.codec;

/** The flag bits and sizes of a "block" record (QEMU 7.2 migration/block.c). */
public final class BlockFlags {
    /** A chunk of a device follows: counted name, then data unless {@link #ZERO_BLOCK}. */
    public static final int DEVICE_BLOCK = 0x01;
    /** End of this section's records. */
    public static final int EOS = 0x02;
    /** The sector field holds a percentage (0..100) of the bulk phase. */
    public static final int PROGRESS = 0x04;
    /** With {@link #DEVICE_BLOCK}: the chunk is all zeros and no data follows (capability zero-blocks). */
    public static final int ZERO_BLOCK = 0x08;
    /** Every flag QEMU 7.2 defines. */
    public static final int KNOWN = DEVICE_BLOCK | EOS | PROGRESS | ZERO_BLOCK;

    /** The loader takes the low 9 bits as flags (BDRV_SECTOR_SIZE - 1) and the rest as the sector. */
    public static final int SECTOR_BITS = 9;
    public static final int SECTOR_SIZE = 1 << SECTOR_BITS;
    /** BLK_MIG_BLOCK_SIZE: bytes of every data chunk on the wire, the short last one included. */
    public static final int CHUNK_SIZE = 1 << 20;
    /** BDRV_SECTORS_PER_DIRTY_CHUNK. */
    public static final int SECTORS_PER_CHUNK = CHUNK_SIZE / SECTOR_SIZE;
    /** The longest device name a counted string can carry. */
    public static final int MAX_NAME_BYTES = 255;
    /** The section's name, instance and version as QEMU registers it (register_savevm_live("block", 0, 1)). */
    public static final String IDSTR = "block";
    public static final int INSTANCE = 0;
    public static final int VERSION = 1;

    private BlockFlags() {
    }

    /** The flags as QEMU's error shows them. */
    public static String describe(int flags) {
        StringBuilder b = new StringBuilder("0x").append(Integer.toHexString(flags));
        return b.toString();
    }
}
