package org.savevm.ram.internal.xbzrle;

/**
 * The sender's XBZRLE cache (QEMU's page_cache.c): direct-mapped by page address, one slot per
 * {@code pageSize} bytes of {@code xbzrle-cache-size}, slot memory allocated on first use. Each entry
 * remembers the bitmap-sync generation that last touched it; a fresh entry (younger than
 * {@link #LIFETIME} generations) is not evicted by a different page.
 */
public final class PageCache {
    /** QEMU's CACHED_PAGE_LIFETIME. */
    public static final int LIFETIME = 2;

    private final int pageSize;
    private final int mask;
    private final long[] addrs;
    private final long[] ages;
    private final byte[][] data;
    private int items;

    /**
     * @param cacheBytes the xbzrle-cache-size: at least one page and a power-of-two number of pages
     */
    public PageCache(long cacheBytes, int pageSize) {
        if (cacheBytes < pageSize) {
            throw new IllegalArgumentException("xbzrle-cache-size " + cacheBytes + " is smaller than one target page");
        }
        long n = cacheBytes / pageSize;
        if (Long.bitCount(n) != 1 || cacheBytes % pageSize != 0) {
            throw new IllegalArgumentException("xbzrle-cache-size " + cacheBytes
                    + " is not a power-of-two number of target pages");
        }
        if (n > (1 << 28)) {
            throw new IllegalArgumentException("xbzrle-cache-size " + cacheBytes + " too large");
        }
        this.pageSize = pageSize;
        this.mask = (int) n - 1;
        this.addrs = new long[(int) n];
        this.ages = new long[(int) n];
        this.data = new byte[(int) n][];
        java.util.Arrays.fill(addrs, -1L);
    }

    private int slot(long addr) {
        return (int) ((addr / pageSize) & mask);
    }

    public int slots() {
        return mask + 1;
    }

    /** Slots holding a page. */
    public int items() {
        return items;
    }

    /** True when {@code addr} is cached; a hit refreshes the entry's age (QEMU's cache_is_cached). */
    public boolean isCached(long addr, long age) {
        int s = slot(addr);
        if (addrs[s] == addr) {
            ages[s] = age;
            return true;
        }
        return false;
    }

    /** The cached copy of {@code addr} (live: the caller may update it), or null. */
    public byte[] get(long addr) {
        int s = slot(addr);
        return addrs[s] == addr ? data[s] : null;
    }

    /**
     * Stores a copy of {@code page} for {@code addr}. Returns the cached copy, or null when the slot
     * holds another page that is still fresh (QEMU's cache_insert returning -1).
     */
    public byte[] insert(long addr, byte[] page, int offset, long age) {
        int s = slot(addr);
        if (data[s] != null && addrs[s] != addr && ages[s] + LIFETIME > age) {
            return null;
        }
        if (data[s] == null) {
            data[s] = new byte[pageSize];
            items++;
        }
        System.arraycopy(page, offset, data[s], 0, pageSize);
        ages[s] = age;
        addrs[s] = addr;
        return data[s];
    }
}
