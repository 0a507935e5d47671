package org.savevm.ram.internal;

/** Flags in the low bits of a RAM record header (QEMU 7.2 ram.c RAM_SAVE_FLAG_*). */
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

    public static final int TARGET_PAGE_SIZE = 4096;
    public static final long TARGET_PAGE_MASK = ~(long) (TARGET_PAGE_SIZE - 1);

    /** Version of the "ram" section. */
    public static final int VERSION = 4;

    private RamFlags() {
    }
}
