package org.savevm.ram.codec;

/**
 * The "small" ULEB128 of QEMU's XBZRLE (util/cutils.c): values 0 … 0x3FFF in one or two bytes. A second
 * byte with its top bit set is refused, so the form is unique.
 */
public final class Uleb128 {
    public static final int MAX = 0x3FFF;

    private Uleb128() {
    }

    /** Writes {@code n} at {@code dst[at]}; returns the bytes written (1 or 2). */
    public static int encode(byte[] dst, int at, int n) {
        if (n < 0 || n > MAX) {
            throw new IllegalArgumentException("uleb128 small value out of range: " + n);
        }
        if (n < 0x80) {
            dst[at] = (byte) n;
            return 1;
        }
        dst[at] = (byte) ((n & 0x7f) | 0x80);
        dst[at + 1] = (byte) (n >>> 7);
        return 2;
    }

    /** Bytes {@link #encode} uses for {@code n}. */
    public static int length(int n) {
        return n < 0x80 ? 1 : 2;
    }

    /**
     * Reads a value at {@code src[at]} (the caller guarantees two readable bytes or a one-byte value);
     * returns {@code value << 8 | length}, or -1 for a malformed second byte.
     */
    public static int decode(byte[] src, int at, int limit) {
        int b0 = src[at] & 0xff;
        if ((b0 & 0x80) == 0) {
            return b0 << 8 | 1;
        }
        if (at + 1 >= limit) {
            return -1;
        }
        int b1 = src[at + 1] & 0xff;
        if ((b1 & 0x80) != 0) {
            return -1;
        }
        return ((b0 & 0x7f) | (b1 << 7)) << 8 | 2;
    }
}
