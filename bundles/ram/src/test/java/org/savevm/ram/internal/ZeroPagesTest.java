package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

class ZeroPagesTest {
    @Test
    void findsAnyNonZeroByte() {
        ByteBuffer b = ByteBuffer.allocateDirect(4096);
        assertTrue(ZeroPages.isZero(b));
        for (int i : new int[] {0, 7, 8, 4095}) {
            b.put(i, (byte) 1);
            assertFalse(ZeroPages.isZero(b), "byte " + i);
            byte[] a = new byte[4096];
            a[i] = 1;
            assertFalse(ZeroPages.isZero(a, 0, 4096));
            b.put(i, (byte) 0);
        }
        assertTrue(ZeroPages.isZero(new byte[4096], 0, 4096));
        assertEquals(0, b.position());
    }
}
