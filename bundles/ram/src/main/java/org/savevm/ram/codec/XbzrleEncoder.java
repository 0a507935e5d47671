package org.savevm.ram.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * QEMU's XBZRLE encoding of a new page against an old one: alternating runs of unchanged bytes (only
 * their length) and changed bytes (length and the new bytes), lengths in small ULEB128, the trailing
 * unchanged run left out. The output is canonical — each run is maximal — so it equals QEMU's byte for
 * byte; comparing eight bytes at a time only makes finding the runs faster.
 */
public final class XbzrleEncoder {
    /** The page did not change: nothing is sent. */
    public static final int UNCHANGED = 0;
    /** The encoding would not fit in the destination: the page goes out in full. */
    public static final int OVERFLOW = -1;

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.nativeOrder());

    private XbzrleEncoder() {
    }

    /**
     * Encodes {@code cur[0..len)} against {@code old[0..len)} into {@code dst[0..dlen)}. Returns the
     * encoded length, {@link #UNCHANGED} or {@link #OVERFLOW}, with QEMU's three overflow checks.
     */
    public static int encode(byte[] old, byte[] cur, int len, byte[] dst, int dlen) {
        int d = 0;
        int i = 0;
        while (i < len) {
            if (d + 2 > dlen) {
                return OVERFLOW;
            }
            int zStart = i;
            i = equalRunEnd(old, cur, i, len);
            int zrun = i - zStart;
            if (zrun == len) {
                return UNCHANGED;
            }
            if (i == len) {
                return d;
            }
            d += Uleb128.encode(dst, d, zrun);
            if (d + 2 > dlen) {
                return OVERFLOW;
            }
            int nzStart = i;
            i = differentRunEnd(old, cur, i, len);
            int nzrun = i - nzStart;
            d += Uleb128.encode(dst, d, nzrun);
            if (d + nzrun > dlen) {
                return OVERFLOW;
            }
            System.arraycopy(cur, nzStart, dst, d, nzrun);
            d += nzrun;
        }
        return d;
    }

    /** First index at or after {@code i} where the pages differ, or {@code len}. */
    static int equalRunEnd(byte[] old, byte[] cur, int i, int len) {
        // the JDK's mismatch is vectorized: long equal runs (most of a dirty page) go fast
        int m = java.util.Arrays.mismatch(old, i, len, cur, i, len);
        return m < 0 ? len : i + m;
    }

    /** First index at or after {@code i} where the pages are equal, or {@code len}. */
    static int differentRunEnd(byte[] old, byte[] cur, int i, int len) {
        while (i + 8 <= len) {
            long x = (long) LONGS.get(old, i) ^ (long) LONGS.get(cur, i);
            // A zero byte in x is an equal byte: the classic "has a zero byte" test.
            long zeroBytes = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
            if (zeroBytes != 0) {
                break;
            }
            i += 8;
        }
        while (i < len && old[i] != cur[i]) {
            i++;
        }
        return i;
    }
}
