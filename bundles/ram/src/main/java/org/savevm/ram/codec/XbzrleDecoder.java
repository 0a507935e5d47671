package org.savevm.ram.codec;

import java.io.IOException;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * Applies an XBZRLE encoding onto the current page (the receiver has no cache). Refuses what QEMU's
 * decoder refuses: a run start with fewer than two bytes left, a malformed length, a zero unchanged-run
 * after the first, a zero changed-run, and any run past the end of the page or of the input.
 */
public final class XbzrleDecoder {
    private XbzrleDecoder() {
    }

    /**
     * Reads the header of an XBZRLE record's payload (encoding byte, be16 length) with QEMU 7.2's checks;
     * returns the length of the encoded data that follows. {@code at} is the record's offset.
     */
    public static int readLength(MigrationInput in, long at, int pageSize) throws IOException {
        int encoding = in.getByte();
        int len = in.getBe16();
        if (encoding != RamFlags.ENCODING_FLAG_XBZRLE) {
            throw new MigrationStreamException("ram: Failed to load XBZRLE page - wrong compression! (encoding 0x"
                    + Integer.toHexString(encoding) + ")", at);
        }
        if (len > pageSize) {
            throw new MigrationStreamException("ram: Failed to load XBZRLE page - len overflow! (" + len + ")", at);
        }
        return len;
    }

    /**
     * Decodes {@code src[0..slen)} onto {@code page[0..dlen)}. Returns the decoded extent, or a negative
     * value whose {@link #describe} says what was wrong.
     */
    public static int decode(byte[] src, int slen, byte[] page, int dlen) {
        int i = 0;
        int d = 0;
        while (i < slen) {
            if (slen - i < 2) {
                return -1 - i; // truncated run
            }
            int z = Uleb128.decode(src, i, slen);
            if (z < 0) {
                return -1 - i;
            }
            int zrun = z >>> 8;
            if (i != 0 && zrun == 0) {
                return -1 - i;
            }
            i += z & 0xff;
            d += zrun;
            if (d > dlen) {
                return -1 - i;
            }
            if (slen - i < 2) {
                return -1 - i;
            }
            int nz = Uleb128.decode(src, i, slen);
            if (nz < 0) {
                return -1 - i;
            }
            int nzrun = nz >>> 8;
            if (nzrun == 0) {
                return -1 - i;
            }
            i += nz & 0xff;
            if (d + nzrun > dlen || i + nzrun > slen) {
                return -1 - i;
            }
            System.arraycopy(src, i, page, d, nzrun);
            d += nzrun;
            i += nzrun;
        }
        return d;
    }

    /** For a negative result of {@link #decode}: the index in the encoded data where decoding failed. */
    public static int failedAt(int result) {
        return -1 - result;
    }
}
