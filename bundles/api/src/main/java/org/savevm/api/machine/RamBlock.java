package org.savevm.api.machine;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One guest RAM block (QEMU's RAMBlock): off-heap memory of {@link #maxLength()} bytes of which the
 * first {@link #usedLength()} are in use. Every write through this interface marks the written pages in
 * the block's dirty log; {@link #syncDirtyLog} hands those bits to one consumer (the migration), as QEMU's
 * bitmap sync does. Offsets are byte offsets inside the block.
 *
 * <p>Thread-safe: the workload writes while the migration thread reads pages and syncs the log.
 */
@ProviderType
public interface RamBlock {
    /** Target page size of every block (x86). */
    int TARGET_PAGE_SIZE = 4096;

    /** The RAMBlock idstr, e.g. {@code pc.ram} or {@code /rom@etc/acpi/tables}. */
    String idstr();

    long usedLength();

    long maxLength();

    /** Page size of the block's memory (4096 here; huge pages would differ). */
    default int pageSize() {
        return TARGET_PAGE_SIZE;
    }

    /** True when a load may change {@link #usedLength()} up to {@link #maxLength()} (QEMU's RAM_RESIZEABLE). */
    boolean resizeable();

    /**
     * Guest-physical address of the block's memory region (QEMU's mr->addr), sent per block in MEM_SIZE
     * with x-ignore-shared: pc.bios 0xfffc0000, pc.rom 0xc0000, 0 for the others.
     */
    default long regionAddress() {
        return 0;
    }

    /** Number of target pages in use. */
    default long pages() {
        return usedLength() / TARGET_PAGE_SIZE;
    }

    /**
     * A read-only view of the target page at {@code offset} (page aligned, below the used length): no copy,
     * the view sees later writes. Position 0, limit 4096.
     */
    ByteBuffer page(long offset);

    /**
     * A writable view of the target page at {@code offset} for loaders; the page is marked dirty. Writes
     * through the view after this call are not logged again.
     */
    ByteBuffer writablePage(long offset);

    /**
     * A writable view of the target page at {@code offset} for the loader of an incoming migration: not
     * logged, as QEMU does not log the destination's RAM while it loads (a later outgoing migration sends
     * every page in its first pass anyway). Defaults to {@link #writablePage}.
     */
    default ByteBuffer incomingPage(long offset) {
        return writablePage(offset);
    }

    /**
     * True when nothing has been written to the page at {@code offset} since the block was allocated, so it
     * holds zeros without being read: what the kernel's shared zero page gives QEMU for never-touched
     * anonymous RAM. False when unknown (the default).
     */
    default boolean untouched(long offset) {
        return false;
    }

    /** {@link #untouched(long)} for {@code pages} pages from {@code offset}. */
    default boolean untouched(long offset, int pages) {
        for (int i = 0; i < pages; i++) {
            if (!untouched(offset + (long) i * TARGET_PAGE_SIZE)) {
                return false;
            }
        }
        return true;
    }

    /** True when every byte of the range (page aligned, within the used length) is zero. */
    default boolean isZero(long offset, long len) {
        for (long p = offset; p < offset + len; p += TARGET_PAGE_SIZE) {
            ByteBuffer b = page(p);
            for (int i = 0; i < TARGET_PAGE_SIZE; i += 8) {
                if (b.getLong(i) != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Copies {@code len} bytes into the block at {@code offset} and marks the touched pages dirty. */
    void write(long offset, byte[] src, int srcOffset, int len);

    /** Sets {@code len} bytes at {@code offset} to {@code value} and marks the touched pages dirty. */
    void fill(long offset, long len, byte value);

    /** Copies {@code len} bytes at {@code offset} into {@code dst}. */
    void read(long offset, byte[] dst, int dstOffset, int len);

    /**
     * Fetches and clears the dirty log, ORing it into {@code bitmap} (bit {@code i} of word {@code i/64} is
     * page {@code i}; needs {@code ceil(maxLength/4096/64)} words). Each word is taken atomically, so a
     * concurrent write is either in this sync or the next, never lost. Returns the number of bits that
     * were newly set in {@code bitmap}.
     */
    long syncDirtyLog(long[] bitmap);

    /** Changes the used length (loads only): refused unless {@link #resizeable()} and within the max length. */
    void resize(long newUsedLength);

    /** SHA-256 over the used bytes. */
    byte[] sha256();

    // ---- postcopy destination -----------------------------------------------------------------------

    /**
     * Postcopy destination (QEMU's discard of stale pages): zeroes the pages in {@code [offset, offset+len)}
     * and marks them missing until a loader {@link #pagePlaced places} them. A guest write to a missing page
     * calls the fault handler and waits for the page, as a userfaultfd fault does.
     */
    void discard(long offset, long len);

    /** True while the page at {@code offset} is missing (discarded and not yet placed). */
    boolean pageMissing(long offset);

    /** Loaders: the page at {@code offset} now holds its final content; writers waiting for it go on. */
    void pagePlaced(long offset);

    /**
     * Postcopy source with release-ram (QEMU's ram_discard_range on the source): the range was sent and
     * the stopped guest will not run here again, so its memory may be given back; it reads as zeros
     * afterwards. Page aligned, within the used length. The default only zeroes the range.
     */
    default void release(long offset, long len) {
        fill(offset, len, (byte) 0);
    }

    /** Number of missing pages. */
    long missingPages();

    /**
     * Who to tell about a guest write to a missing page (the postcopy page request), or null for nobody.
     * The writer then waits up to {@code faultTimeoutMillis} for the page and fails after that.
     */
    void setPageFaultHandler(PageFaultHandler handler, long faultTimeoutMillis);

    // ---- live snapshots -----------------------------------------------------------------------------

    /**
     * Copy-before-write (a live snapshot, the role of QEMU's background-snapshot with userfaultfd write
     * protection): from now until the view is closed, the first guest write to each page of the used length that
     * the view has not read yet first copies the page's old content aside. The view reads every page as it was at
     * this instant; it is read-only, logs nothing dirty and its {@link #syncDirtyLog} finds nothing (a snapshot
     * sees no later writes). Call with the guest stopped; at most one view at a time.
     */
    default FrozenRamBlock freeze() {
        throw new UnsupportedOperationException("RAM block " + idstr() + " has no copy-before-write");
    }
}
