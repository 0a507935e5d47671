package org.savevm.ram.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** QEMU's buffer_is_zero for pages: eight bytes at a time, stopping at the first non-zero word. */
public final class ZeroPages {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.nativeOrder());

    private ZeroPages() {
    }

    /** True when every byte from the position to the limit is zero (the position does not move). */
    public static boolean isZero(ByteBuffer b) {
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
