package org.savevm.ram.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.savevm.api.machine.RamBlock;

/**
 * QEMU's buffer_is_zero for pages. Page-sized buffers are compared with a constant zero page through
 * the JDK's vectorized mismatch; other lengths go eight bytes at a time.
 */
public final class ZeroPages {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.nativeOrder());
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;
    private static final int WARM_UP_ROUNDS = 400;
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

    /**
     * Runs the zero checks over a private zeroed 256 KiB buffer until the JIT has compiled them. In a JVM
     * that has just started, the first few hundred megabytes of a migration's zero scan otherwise run in the
     * interpreter, three times slower (the first 50 ms pass of a 1 GiB guest covered 290 MiB instead of
     * 1 GiB). Costs a few milliseconds of one core, once, when the ram handler activates.
     */
    static void warmUp() {
        int n = 64 * PAGE;
        ByteBuffer b = ByteBuffer.allocateDirect(n);
        byte[] a = new byte[PAGE];
        boolean all = true;
        for (int round = 0; round < WARM_UP_ROUNDS; round++) {
            // the same calls as a RAM block's range check (self-shift) and the per-page check
            all &= b.getLong(0) == 0 && b.slice(0, n - 8).mismatch(b.slice(8, n - 8)) == -1;
            all &= isZero(b.slice(round % 64 * PAGE, PAGE));
            all &= isZero(a, 0, PAGE);
        }
        if (!all) {
            throw new AssertionError("a fresh buffer read non-zero");
        }
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
