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

    /** A block of 2 MiB host pages: discarded whole, present only once all 512 target pages are placed. */
    @Test
    void aHugePageIsMissingUntilItsLastTargetPageIsPlaced() throws Exception {
        int huge = 2 << 20;
        OffHeapRamBlock b = new OffHeapRamBlock("pc.ram", 2L * huge, 2L * huge, false, 0, huge);
        assertEquals(huge, b.pageSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.discard(PAGE, huge));
        assertTrue(e.getMessage().contains("not aligned to its page size 0x200000"), e.getMessage());
        b.discard(huge, huge);
        assertEquals(512, b.missingPages());
        assertFalse(b.pageMissing(0));
        AtomicLong faulted = new AtomicLong(-1);
        AtomicLong waited = new AtomicLong(-1);
        b.setPageFaultHandler(new org.savevm.api.machine.PageFaultHandler() {
            @Override
            public void pageFault(String idstr, long offset) {
                faulted.set(offset);
            }

            @Override
            public void pageArrived(String idstr, long offset, long waitedNanos) {
                waited.set(waitedNanos);
            }
        }, 10_000);
        byte[] got = new byte[1];
        Thread guest = new Thread(() -> b.read(huge + 5 * PAGE, got, 0, 1));
        guest.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (faulted.get() < 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        for (int t = 0; t < 511; t++) {
            int at = t < 5 ? t : t + 1; // every target page but the one the guest reads
            b.incomingPage(huge + (long) at * PAGE).put(0, (byte) 7);
            b.pagePlaced(huge + (long) at * PAGE);
            assertTrue(b.pageMissing(huge + 5 * PAGE), "host page still missing after target page " + at);
        }
        assertTrue(b.pageMissing(huge), "the placed target pages are not visible on their own either");
        b.incomingPage(huge + 5 * PAGE).put(0, (byte) 7);
        b.pagePlaced(huge + 5 * PAGE);
        guest.join(10_000);
        assertFalse(guest.isAlive());
        assertEquals(7, got[0]);
        assertEquals(huge, faulted.get(), "the fault names the host page");
        assertTrue(waited.get() >= 0, "the wait was reported (postcopy-blocktime)");
        assertEquals(0, b.missingPages());
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
