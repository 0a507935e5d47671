package org.savevm.core.analyze;

/**
 * Applies one XBZRLE record to a page, with QEMU 7.2's rules (xbzrle_decode_buffer): pairs of a run of
 * unchanged bytes and a run of new bytes, each length a ULEB128 of at most two bytes; only the first
 * unchanged run may be empty, no new-bytes run may be, and nothing may reach past the page or the data.
 */
final class XbzrlePage {
    private XbzrlePage() {
    }

    /**
     * Decodes {@code src[0..len)} onto {@code page[0..pageLen)}; returns the number of bytes of the page
     * it reached, or {@code -1 - i} when the encoding is invalid at byte {@code i} of the record.
     */
    static int apply(byte[] src, int len, byte[] page, int pageLen) {
        int i = 0;
        int d = 0;
        while (i < len) {
            if (len - i < 2) {
                return -1 - i;
            }
            int at = i;
            int zrun = uleb(src, i);
            if (zrun < 0 || (i > 0 && (zrun >>> 8) == 0)) {
                return -1 - at;
            }
            i += zrun & 0xff;
            d += zrun >>> 8;
            if (d > pageLen || len - i < 2) {
                return -1 - at;
            }
            at = i;
            int nz = uleb(src, i);
            if (nz < 0 || (nz >>> 8) == 0) {
                return -1 - at;
            }
            i += nz & 0xff;
            int n = nz >>> 8;
            if (d + n > pageLen || i + n > len) {
                return -1 - at;
            }
            System.arraycopy(src, i, page, d, n);
            d += n;
            i += n;
        }
        return d;
    }

    /** (value << 8) | bytes used, or -1 when a third byte would be needed. */
    private static int uleb(byte[] b, int i) {
        int first = b[i] & 0xff;
        if ((first & 0x80) == 0) {
            return first << 8 | 1;
        }
        int second = b[i + 1] & 0xff;
        if ((second & 0x80) != 0) {
            return -1;
        }
        return ((first & 0x7f) | second << 7) << 8 | 2;
    }

    /** The record byte where decoding failed, from a negative result of {@link #apply}. */
    static int failedAt(int result) {
        return -1 - result;
    }
}
