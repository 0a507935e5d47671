package org.savevm.ram.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * QEMU's buffer_is_zero for pages. Page-sized buffers are compared with a constant zero page through
 * the JDK's vectorized mismatch; other lengths go eight bytes at a time.
 */
public final class ZeroPages {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.nativeOrder());
    private static final int PAGE = 4096;
    /** Immutable: never written, shared read-only. */
    private static final ByteBuffer ZERO_DIRECT = ByteBuffer.allocateDirect(PAGE).asReadOnlyBuffer();
    private static final byte[] ZERO_ARRAY = new byte[PAGE];

    private ZeroPages() {
    }

    /** True when every byte from the position to the limit is zero (the position does not move). */
    public static boolean isZero(ByteBuffer b) {
        if (b.remaining() == PAGE) {
            // quick reject on the first word, as most data pages fail there
            return b.getLong(b.position()) == 0 && b.mismatch(ZERO_DIRECT.duplicate()) == -1;
        }
        int i = b.position();
        int end = b.limit();
        for (; i + 8 <= end; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    public static boolean isZero(byte[] a, int off, int len) {
        if (len == PAGE) {
            return java.util.Arrays.mismatch(a, off, off + PAGE, ZERO_ARRAY, 0, PAGE) == -1;
        }
        int i = off;
        int end = off + len;
        for (; i + 8 <= end; i += 8) {
            if ((long) LONGS.get(a, i) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
