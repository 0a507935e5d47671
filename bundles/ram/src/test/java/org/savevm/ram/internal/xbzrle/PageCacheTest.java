package org.savevm.ram.internal.xbzrle;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class PageCacheTest {
    private static final int PAGE = 4096;

    private static byte[] page(int v) {
        byte[] p = new byte[PAGE];
        java.util.Arrays.fill(p, (byte) v);
        return p;
    }

    @Test
    void sizeMustBeAPowerOfTwoNumberOfPages() {
        assertEquals(4, new PageCache(4 * PAGE, PAGE).slots());
        assertThrows(IllegalArgumentException.class, () -> new PageCache(3 * PAGE, PAGE));
        assertThrows(IllegalArgumentException.class, () -> new PageCache(PAGE - 1, PAGE));
        assertThrows(IllegalArgumentException.class, () -> new PageCache(4 * PAGE + 1, PAGE));
    }

    @Test
    void directMappedByAddressWithFreshEntriesProtected() {
        PageCache c = new PageCache(4 * PAGE, PAGE);
        assertFalse(c.isCached(0, 1));
        assertNotNull(c.insert(0, page(1), 0, 1));
        assertTrue(c.isCached(0, 1));
        assertEquals(1, c.get(0)[0]);
        // address 4 pages further maps to the same slot; the entry is fresh (age 1 + 2 > 2)
        long alias = 4L * PAGE;
        assertNull(c.insert(alias, page(2), 0, 2));
        assertFalse(c.isCached(alias, 2));
        // at age 3 the entry (age 1) has lived its two generations and is replaced
        assertNotNull(c.insert(alias, page(2), 0, 3));
        assertTrue(c.isCached(alias, 3));
        assertFalse(c.isCached(0, 3));
        assertEquals(1, c.items());
    }

    @Test
    void aHitRefreshesTheAge() {
        PageCache c = new PageCache(PAGE, PAGE);
        c.insert(0, page(1), 0, 1);
        assertTrue(c.isCached(0, 5)); // age becomes 5
        assertNull(c.insert(PAGE, page(2), 0, 6));
        assertNotNull(c.insert(PAGE, page(2), 0, 7));
    }

    @Test
    void sameAddressIsAlwaysUpdated() {
        PageCache c = new PageCache(PAGE, PAGE);
        c.insert(0, page(1), 0, 1);
        byte[] cached = c.insert(0, page(3), 0, 1);
        assertNotNull(cached);
        assertEquals(3, cached[100]);
    }
}
