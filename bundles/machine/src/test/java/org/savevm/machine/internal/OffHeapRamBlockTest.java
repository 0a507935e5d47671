package org.savevm.machine.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

class OffHeapRamBlockTest {

    @Test
    void writesMarkTouchedPagesAndSyncFetchesAndClears() {
        OffHeapRamBlock b = new OffHeapRamBlock("pc.ram", 64 * 4096, 64 * 4096, false);
        long[] bitmap = new long[1];
        assertEquals(0, b.syncDirtyLog(bitmap));
        b.write(4095, new byte[] {1, 2}, 0, 2); // straddles pages 0 and 1
        b.fill(10 * 4096, 4096, (byte) 7);
        assertEquals(3, b.syncDirtyLog(bitmap));
        assertEquals((1L << 0) | (1L << 1) | (1L << 10), bitmap[0]);
        // cleared: a second sync adds nothing
        assertEquals(0, b.syncDirtyLog(bitmap));
        // already set bits are not counted again
        b.write(0, new byte[] {9}, 0, 1);
        assertEquals(0, b.syncDirtyLog(bitmap));
        assertEquals(1, b.syncDirtyLog(new long[1]) + 1);
    }

    @Test
    void pagesStayUntouchedUntilSomethingWritesThem() {
        OffHeapRamBlock b = new OffHeapRamBlock("pc.ram", 256 * 4096, 256 * 4096, false);
        for (long p = 0; p < 256; p++) {
            assertTrue(b.untouched(p * 4096));
        }
        assertTrue(b.untouched(0, 64));
        b.write(4095, new byte[] {0, 0}, 0, 2); // zeros count as written, over pages 0 and 1
        b.fill(70 * 4096, 1, (byte) 0);
        b.writablePage(130 * 4096);
        b.incomingPage(200 * 4096);
        for (long p : new long[] {0, 1, 70, 130, 200}) {
            assertFalse(b.untouched(p * 4096), "page " + p);
        }
        assertTrue(b.untouched(2 * 4096));
        assertFalse(b.untouched(0, 64));
        assertTrue(b.untouched(192 * 4096, 8));
        assertFalse(b.untouched(192 * 4096, 64));
        long[] log = new long[4];
        b.syncDirtyLog(log);
        assertEquals(0, log[3], "pages loaded by an incoming migration are not logged");
    }

    @Test
    void zeroRangeCheckFindsASingleByteAnywhere() {
        OffHeapRamBlock b = new OffHeapRamBlock("pc.ram", 128 * 4096, 128 * 4096, false);
        assertTrue(b.isZero(0, 64 * 4096));
        for (long at : new long[] {0, 7, 8, 4095, 4096, 64 * 4096 - 9, 64 * 4096 - 8, 64 * 4096 - 1}) {
            b.fill(at, 1, (byte) 0x80);
            assertFalse(b.isZero(0, 64 * 4096), "byte at " + at);
            assertTrue(b.isZero(64 * 4096, 64 * 4096), "the next range is untouched by it");
            b.fill(at, 1, (byte) 0);
            assertTrue(b.isZero(0, 64 * 4096), "zero again after clearing " + at);
        }
        b.fill(3 * 4096, 4096, (byte) 1);
        assertFalse(b.isZero(0, 128 * 4096));
        assertTrue(b.isZero(4 * 4096, 4096));
    }

    @Test
    void pageViewIsReadOnlyAndSeesLaterWrites() {
        OffHeapRamBlock b = new OffHeapRamBlock("x", 2 * 4096, 2 * 4096, false);
        ByteBuffer p = b.page(4096);
        assertTrue(p.isReadOnly());
        assertEquals(4096, p.remaining());
        assertEquals(0, p.get(5));
        b.write(4096 + 5, new byte[] {42}, 0, 1);
        assertEquals(42, p.get(5));
        byte[] back = new byte[3];
        b.read(4096 + 4, back, 0, 3);
        assertArrayEquals(new byte[] {0, 42, 0}, back);
        assertThrows(IllegalArgumentException.class, () -> b.page(100));
        assertThrows(IndexOutOfBoundsException.class, () -> b.page(2 * 4096));
    }

    @Test
    void writablePageMarksDirty() {
        OffHeapRamBlock b = new OffHeapRamBlock("x", 4 * 4096, 4 * 4096, false);
        b.writablePage(3 * 4096).put(0, (byte) 1);
        long[] bm = new long[1];
        assertEquals(1, b.syncDirtyLog(bm));
        assertEquals(1L << 3, bm[0]);
        assertEquals(1, b.page(3 * 4096).get(0));
    }

    @Test
    void resizeOnlyWhenResizeableAndWithinMax() {
        OffHeapRamBlock fixed = new OffHeapRamBlock("pc.ram", 4096, 4096, false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> fixed.resize(8192));
        assertTrue(e.getMessage().startsWith("Size mismatch: pc.ram: 0x2000 != 0x1000"), e.getMessage());
        OffHeapRamBlock r = new OffHeapRamBlock("/rom@etc/acpi/tables", 0x20000, 0x200000, true);
        r.resize(0x30000);
        assertEquals(0x30000, r.usedLength());
        long[] bm = new long[0x200000 / 4096 / 64];
        assertEquals(0x30, r.syncDirtyLog(bm));
        assertThrows(IllegalArgumentException.class, () -> r.resize(0x201000));
    }

    @Test
    void concurrentWritesAreNeverLostBySync() throws Exception {
        OffHeapRamBlock b = new OffHeapRamBlock("x", 256 * 4096, 256 * 4096, false);
        long[] bitmap = new long[4];
        AtomicBoolean stop = new AtomicBoolean();
        int[] written = new int[256];
        Thread writer = new Thread(() -> {
            byte[] one = {1};
            int i = 0;
            while (!stop.get()) {
                int page = i++ % 256;
                b.write(page * 4096L, one, 0, 1);
                written[page] = 1;
            }
        });
        writer.start();
        for (int k = 0; k < 200; k++) {
            b.syncDirtyLog(bitmap);
        }
        stop.set(true);
        writer.join();
        b.syncDirtyLog(bitmap);
        for (int p = 0; p < 256; p++) {
            if (written[p] == 1) {
                assertTrue((bitmap[p >>> 6] & (1L << (p & 63))) != 0, "page " + p + " lost");
            }
        }
    }

    @Test
    void shaChangesWithContent() {
        OffHeapRamBlock b = new OffHeapRamBlock("x", 4096, 4096, false);
        byte[] h0 = b.sha256();
        b.write(100, new byte[] {1}, 0, 1);
        assertFalse(java.util.Arrays.equals(h0, b.sha256()));
    }
}
