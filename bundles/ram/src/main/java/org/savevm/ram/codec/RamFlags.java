package org.savevm.ram.codec;

import org.savevm.api.machine.RamBlock;

/**
 * The header of a RAM record (QEMU 7.2 ram.c): a be64 holding the page offset within its block and,
 * in the bits below the target page size, the RAM_SAVE_FLAG_* flags.
 */
public final class RamFlags {
    /** Obsolete; a 7.2 loader refuses it. */
    public static final int FULL = 0x01;
    public static final int ZERO = 0x02;
    public static final int MEM_SIZE = 0x04;
    public static final int PAGE = 0x08;
    public static final int EOS = 0x10;
    public static final int CONTINUE = 0x20;
    public static final int XBZRLE = 0x40;
    /** RDMA only. */
    public static final int HOOK = 0x80;
    public static final int COMPRESS_PAGE = 0x100;

    /** Records that carry a page (and so a block). */
    public static final int PAGE_KINDS = ZERO | PAGE | COMPRESS_PAGE | XBZRLE;

    /** XBZRLE's only encoding flag (ENCODING_FLAG_XBZRLE). */
    public static final int ENCODING_FLAG_XBZRLE = 0x01;

    public static final long TARGET_PAGE_MASK = ~(long) (RamBlock.TARGET_PAGE_SIZE - 1);

    /** Version of the "ram" section. */
    public static final int VERSION = 4;

    private RamFlags() {
    }

    /** The flags of a record header written with pages of {@code pageSize} bytes (a power of two). */
    public static int flags(long header, int pageSize) {
        return (int) (header & (pageSize - 1));
    }

    /** The page offset of a record header written with pages of {@code pageSize} bytes. */
    public static long offset(long header, int pageSize) {
        return header & ~(long) (pageSize - 1);
    }
}
