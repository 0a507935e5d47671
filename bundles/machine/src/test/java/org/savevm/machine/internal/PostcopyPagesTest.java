package org.savevm.machine.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class PostcopyPagesTest {
    private static final int PAGE = 4096;

    @Test
    void discardZeroesAndMarksMissingUntilPlaced() {
        OffHeapRamBlock b = new OffHeapRamBlock("pc.ram", 8 * PAGE, 8 * PAGE, false);
        b.write(2 * PAGE, new byte[] {5}, 0, 1);
        long[] bm = new long[1];
        b.syncDirtyLog(bm);
        b.discard(2 * PAGE, 2 * PAGE);
        assertEquals(2, b.missingPages());
        assertTrue(b.pageMissing(2 * PAGE));
        assertTrue(b.pageMissing(3 * PAGE));
        assertFalse(b.pageMissing(4 * PAGE));
        assertEquals(0, b.page(2 * PAGE).get(0), "discarded pages read as zero");
        assertEquals(0, b.syncDirtyLog(new long[1]), "a discard is not a guest write");
        b.pagePlaced(2 * PAGE);
        b.pagePlaced(2 * PAGE); // twice is harmless
        assertEquals(1, b.missingPages());
        assertThrows(IllegalArgumentException.class, () -> b.discard(100, PAGE));
    }

    @Test
    void guestWriteToAMissingPageFaultsAndWaits() throws Exception {
        OffHeapRamBlock b = new OffHeapRamBlock("pc.ram", 8 * PAGE, 8 * PAGE, false);
        b.discard(PAGE, PAGE);
        AtomicLong faulted = new AtomicLong(-1);
        b.setPageFaultHandler((id, off) -> faulted.set(off), 10_000);
        Thread guest = new Thread(() -> b.write(PAGE + 1, new byte[] {9}, 0, 1));
        guest.start();
        Thread.sleep(100);
        assertTrue(guest.isAlive(), "the write waits for the page");
        assertEquals(PAGE, faulted.get());
        b.writablePage(PAGE).put(0, (byte) 3); // the loader brings the page
        b.pagePlaced(PAGE);
        guest.join(5000);
        assertFalse(guest.isAlive());
        byte[] p = new byte[2];
        b.read(PAGE, p, 0, 2);
        assertArrayEquals(new byte[] {3, 9}, p);
        // pages that are present never wait
        b.write(0, new byte[] {1}, 0, 1);
    }

    @Test
    void aPageThatNeverArrivesFailsTheWriteAfterTheTimeout() {
        OffHeapRamBlock b = new OffHeapRamBlock("pc.ram", 2 * PAGE, 2 * PAGE, false);
        b.discard(0, PAGE);
        b.setPageFaultHandler(null, 50);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.fill(0, 10, (byte) 1));
        assertTrue(e.getMessage().contains("did not arrive within 50 ms"), e.getMessage());
    }
}
