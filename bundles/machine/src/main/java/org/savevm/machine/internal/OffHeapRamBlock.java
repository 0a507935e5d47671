package org.savevm.machine.internal;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.savevm.api.machine.PageFaultHandler;
import org.savevm.api.machine.RamBlock;

/**
 * A RAM block in direct buffers of at most 1 GiB each (a ByteBuffer index is an int), with a dirty log
 * of one bit per target page held in atomic words so that guest writes and the migration's sync never
 * lose a bit.
 */
public final class OffHeapRamBlock implements RamBlock {
    /** Chunk size: a power of two, a multiple of the page size, addressable by an int. */
    static final int CHUNK_SHIFT = 30;
    static final long CHUNK_SIZE = 1L << CHUNK_SHIFT;

    private final String idstr;
    private final long maxLength;
    private final boolean resizeable;
    private final ByteBuffer[] chunks;
    private final AtomicLongArray dirtyLog;
    /** One bit per page ever written (guest writes and incoming pages): the others are still zero. */
    private final AtomicLongArray written;
    private final long regionAddress;
    /** Host page size (QEMU's block->page_size). */
    private final int pageSize;
    private final int targetsPerHostPage;
    /**
     * Postcopy destination of a huge-page block: host pages discarded and not yet placed whole. A host page
     * leaves this set only once every one of its target pages arrived, under {@link #placed}'s lock, so a
     * guest access sees the host page either missing or complete (userfaultfd places huge pages whole).
     */
    private final AtomicLongArray hostMissing;
    private volatile long usedLength;
    /** Postcopy destination: pages discarded and not yet placed. */
    private final AtomicLongArray missing;
    private final AtomicLong missingCount = new AtomicLong();
    private final Object placed = new Object();
    private volatile PageFaultHandler faultHandler;
    private volatile long faultTimeoutMillis = 60_000;

    public OffHeapRamBlock(String idstr, long usedLength, long maxLength, boolean resizeable) {
        this(idstr, usedLength, maxLength, resizeable, 0);
    }

    public OffHeapRamBlock(String idstr, long usedLength, long maxLength, boolean resizeable, long regionAddress) {
        this(idstr, usedLength, maxLength, resizeable, regionAddress, TARGET_PAGE_SIZE);
    }

    /**
     * A block backed by host pages of {@code pageSize} bytes (a power of two, at least the target page; 2 MiB
     * for a hugetlbfs-backed block): in postcopy such a page is missing or present only as a whole.
     */
    public OffHeapRamBlock(String idstr, long usedLength, long maxLength, boolean resizeable, long regionAddress,
            int pageSize) {
        if (pageSize < TARGET_PAGE_SIZE || Integer.bitCount(pageSize) != 1 || usedLength % pageSize != 0
                || maxLength % pageSize != 0) {
            throw new IllegalArgumentException("RAM block " + idstr + ": page size " + pageSize
                    + " must be a power of two of at least " + TARGET_PAGE_SIZE + " dividing its lengths");
        }
        this.pageSize = pageSize;
        this.targetsPerHostPage = pageSize / TARGET_PAGE_SIZE;
        this.regionAddress = regionAddress;
        this.idstr = Objects.requireNonNull(idstr);
        if (usedLength <= 0 || usedLength % TARGET_PAGE_SIZE != 0 || maxLength < usedLength
                || maxLength % TARGET_PAGE_SIZE != 0) {
            throw new IllegalArgumentException("RAM block " + idstr + ": lengths must be page multiples with used "
                    + "<= max (used 0x" + Long.toHexString(usedLength) + ", max 0x" + Long.toHexString(maxLength) + ")");
        }
        this.usedLength = usedLength;
        this.maxLength = maxLength;
        this.resizeable = resizeable;
        int n = (int) ((maxLength + CHUNK_SIZE - 1) >>> CHUNK_SHIFT);
        this.chunks = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            long size = Math.min(CHUNK_SIZE, maxLength - ((long) i << CHUNK_SHIFT));
            try {
                chunks[i] = ByteBuffer.allocateDirect((int) size);
            } catch (OutOfMemoryError e) {
                throw new IllegalStateException("cannot allocate 0x" + Long.toHexString(maxLength) + " bytes for RAM block "
                        + idstr + " off the heap: raise -XX:MaxDirectMemorySize (default: the heap size)", e);
            }
        }
        long maxPages = maxLength / TARGET_PAGE_SIZE;
        this.dirtyLog = new AtomicLongArray((int) ((maxPages + 63) / 64));
        this.written = new AtomicLongArray(dirtyLog.length());
        this.missing = new AtomicLongArray(dirtyLog.length());
        long hostPages = maxLength / pageSize;
        this.hostMissing = targetsPerHostPage == 1 ? null : new AtomicLongArray((int) ((hostPages + 63) / 64));
    }

    @Override
    public int pageSize() {
        return pageSize;
    }

    @Override
    public String idstr() {
        return idstr;
    }

    @Override
    public long usedLength() {
        return usedLength;
    }

    @Override
    public long maxLength() {
        return maxLength;
    }

    @Override
    public long regionAddress() {
        return regionAddress;
    }

    @Override
    public boolean resizeable() {
        return resizeable;
    }

    private void checkRange(long offset, long len) {
        if (offset < 0 || len < 0 || offset + len > usedLength) {
            throw new IndexOutOfBoundsException("RAM block " + idstr + ": range 0x" + Long.toHexString(offset) + "+0x"
                    + Long.toHexString(len) + " outside used length 0x" + Long.toHexString(usedLength));
        }
    }

    private void checkPage(long offset) {
        if ((offset & (TARGET_PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("RAM block " + idstr + ": unaligned page offset 0x"
                    + Long.toHexString(offset));
        }
        checkRange(offset, TARGET_PAGE_SIZE);
    }

    private ByteBuffer chunk(long offset) {
        return chunks[(int) (offset >>> CHUNK_SHIFT)];
    }

    private static int inChunk(long offset) {
        return (int) (offset & (CHUNK_SIZE - 1));
    }

    @Override
    public ByteBuffer page(long offset) {
        checkPage(offset);
        return chunk(offset).slice(inChunk(offset), TARGET_PAGE_SIZE).asReadOnlyBuffer();
    }

    @Override
    public ByteBuffer writablePage(long offset) {
        checkPage(offset);
        beforeWrite(offset, TARGET_PAGE_SIZE);
        ByteBuffer b = chunk(offset).slice(inChunk(offset), TARGET_PAGE_SIZE);
        markDirty(offset, TARGET_PAGE_SIZE);
        return b;
    }

    @Override
    public ByteBuffer incomingPage(long offset) {
        checkPage(offset);
        markWritten(offset / TARGET_PAGE_SIZE);
        return chunk(offset).slice(inChunk(offset), TARGET_PAGE_SIZE);
    }

    @Override
    public boolean untouched(long offset) {
        long p = offset / TARGET_PAGE_SIZE;
        return (written.get((int) (p >>> 6)) & (1L << (p & 63))) == 0;
    }

    @Override
    public boolean untouched(long offset, int pages) {
        long p = offset / TARGET_PAGE_SIZE;
        if ((p & 63) == 0 && pages == 64) {
            return written.get((int) (p >>> 6)) == 0;
        }
        return RamBlock.super.untouched(offset, pages);
    }

    /**
     * One vectorized sweep: the range is zero when its first eight bytes are and it equals itself
     * shifted by eight bytes (the second read hits the cache lines the first just loaded).
     */
    @Override
    public boolean isZero(long offset, long len) {
        checkRange(offset, len);
        if (len < 16 || (offset >>> CHUNK_SHIFT) != ((offset + len - 1) >>> CHUNK_SHIFT) || len > Integer.MAX_VALUE) {
            return RamBlock.super.isZero(offset, len);
        }
        ByteBuffer c = chunk(offset);
        int at = inChunk(offset);
        int n = (int) len;
        if (c.getLong(at) != 0) {
            return false;
        }
        return c.slice(at, n - 8).mismatch(c.slice(at + 8, n - 8)) == -1;
    }

    private void markWritten(long page) {
        setBit(written, page);
    }

    /** Sets the page's bit; the atomic update only when it is not set yet (the common case on rewrites). */
    private static void setBit(AtomicLongArray bits, long page) {
        int w = (int) (page >>> 6);
        long bit = 1L << (page & 63);
        if ((bits.get(w) & bit) == 0) {
            bits.getAndAccumulate(w, bit, (a, b) -> a | b);
        }
    }

    @Override
    public void write(long offset, byte[] src, int srcOffset, int len) {
        checkRange(offset, len);
        Objects.checkFromIndexSize(srcOffset, len, src.length);
        awaitPresent(offset, len);
        beforeWrite(offset, len);
        long at = offset;
        int done = 0;
        while (done < len) {
            int n = (int) Math.min(len - done, CHUNK_SIZE - inChunk(at));
            chunk(at).put(inChunk(at), src, srcOffset + done, n);
            done += n;
            at += n;
        }
        markDirty(offset, len);
    }

    @Override
    public void fill(long offset, long len, byte value) {
        checkRange(offset, len);
        awaitPresent(offset, len);
        beforeWrite(offset, len);
        byte[] pattern = new byte[(int) Math.min(len, 64 * 1024)];
        if (value != 0) {
            java.util.Arrays.fill(pattern, value);
        }
        long at = offset;
        long end = offset + len;
        while (at < end) {
            int n = (int) Math.min(Math.min(end - at, pattern.length), CHUNK_SIZE - inChunk(at));
            chunk(at).put(inChunk(at), pattern, 0, n);
            at += n;
        }
        markDirty(offset, len);
    }

    @Override
    public void read(long offset, byte[] dst, int dstOffset, int len) {
        checkRange(offset, len);
        Objects.checkFromIndexSize(dstOffset, len, dst.length);
        awaitPresent(offset, len);
        long at = offset;
        int done = 0;
        while (done < len) {
            int n = (int) Math.min(len - done, CHUNK_SIZE - inChunk(at));
            chunk(at).get(inChunk(at), dst, dstOffset + done, n);
            done += n;
            at += n;
        }
    }

    /** Sets the log bit of every page in [offset, offset+len). */
    private void markDirty(long offset, long len) {
        if (len == 0) {
            return;
        }
        long first = offset / TARGET_PAGE_SIZE;
        long last = (offset + len - 1) / TARGET_PAGE_SIZE;
        for (long p = first; p <= last; p++) {
            // written first: a migration that sees the dirty bit must also see the page as written
            markWritten(p);
            setBit(dirtyLog, p);
        }
    }

    @Override
    public long syncDirtyLog(long[] bitmap) {
        int words = Math.min(bitmap.length, dirtyLog.length());
        long newlySet = 0;
        for (int w = 0; w < words; w++) {
            if (dirtyLog.get(w) == 0) {
                continue;
            }
            long bits = dirtyLog.getAndSet(w, 0);
            newlySet += Long.bitCount(bits & ~bitmap[w]);
            bitmap[w] |= bits;
        }
        return newlySet;
    }

    @Override
    public void resize(long newUsedLength) {
        if (newUsedLength == usedLength) {
            return;
        }
        if (!resizeable) {
            throw new IllegalStateException("Size mismatch: " + idstr + ": 0x" + Long.toHexString(newUsedLength)
                    + " != 0x" + Long.toHexString(usedLength));
        }
        if (newUsedLength <= 0 || newUsedLength % TARGET_PAGE_SIZE != 0 || newUsedLength > maxLength) {
            throw new IllegalArgumentException("Length too large: " + idstr + ": 0x" + Long.toHexString(newUsedLength)
                    + " > 0x" + Long.toHexString(maxLength) + " or not a page multiple");
        }
        long old = usedLength;
        usedLength = newUsedLength;
        // QEMU marks the whole new range dirty after a resize so that it is migrated again.
        markDirty(0, newUsedLength);
        if (newUsedLength < old) {
            // Bytes past the new end are not guest memory any more.
            long at = newUsedLength;
            while (at < old) {
                int n = (int) Math.min(old - at, CHUNK_SIZE - inChunk(at));
                ByteBuffer c = chunk(at);
                for (int i = 0; i < n; i++) {
                    c.put(inChunk(at) + i, (byte) 0);
                }
                at += n;
            }
        }
    }

    @Override
    public byte[] sha256() {
        MessageDigest md = sha256Digest();
        long used = usedLength;
        long at = 0;
        while (at < used) {
            int n = (int) Math.min(used - at, CHUNK_SIZE - inChunk(at));
            md.update(chunk(at).slice(inChunk(at), n));
            at += n;
        }
        return md.digest();
    }

    // ---- postcopy destination ---------------------------------------------------------------------

    @Override
    public void discard(long offset, long len) {
        checkRange(offset, len);
        if ((offset | len) % pageSize != 0) {
            // QEMU's ram_block_discard_range: a huge page is discarded whole or not at all
            throw new IllegalArgumentException("RAM block " + idstr + ": discard not aligned to its page size 0x"
                    + Integer.toHexString(pageSize) + ": 0x" + Long.toHexString(offset) + "+0x"
                    + Long.toHexString(len));
        }
        if (hostMissing != null) {
            for (long h = offset / pageSize; h < (offset + len) / pageSize; h++) {
                setBit(hostMissing, h);
            }
        }
        for (long p = offset / TARGET_PAGE_SIZE; p < (offset + len) / TARGET_PAGE_SIZE; p++) {
            long bit = 1L << (p & 63);
            long old = missing.getAndAccumulate((int) (p >>> 6), bit, (a, b) -> a | b);
            if ((old & bit) == 0) {
                missingCount.incrementAndGet();
            }
            ByteBuffer c = chunk(p * TARGET_PAGE_SIZE);
            int at = inChunk(p * TARGET_PAGE_SIZE);
            for (int i = 0; i < TARGET_PAGE_SIZE; i += 8) {
                c.putLong(at + i, 0L);
            }
        }
    }

    /** release-ram: the sent range is zero and counts as never written again, like memory given back. */
    @Override
    public void release(long offset, long len) {
        checkRange(offset, len);
        if ((offset | len) % TARGET_PAGE_SIZE != 0) {
            throw new IllegalArgumentException("RAM block " + idstr + ": release not page aligned: 0x"
                    + Long.toHexString(offset) + "+0x" + Long.toHexString(len));
        }
        long at = offset;
        long end = offset + len;
        while (at < end) {
            int n = (int) Math.min(end - at, CHUNK_SIZE - inChunk(at));
            ByteBuffer c = chunk(at);
            int from = inChunk(at);
            for (int i = 0; i < n; i += 8) {
                c.putLong(from + i, 0L);
            }
            at += n;
        }
        for (long p = offset / TARGET_PAGE_SIZE; p < end / TARGET_PAGE_SIZE; p++) {
            written.getAndAccumulate((int) (p >>> 6), 1L << (p & 63), (a, b) -> a & ~b);
        }
    }

    /** For a huge-page block, whether the whole host page around {@code offset} is still missing. */
    @Override
    public boolean pageMissing(long offset) {
        if (hostMissing != null) {
            long h = offset / pageSize;
            return (hostMissing.get((int) (h >>> 6)) & (1L << (h & 63))) != 0;
        }
        return targetMissing(offset / TARGET_PAGE_SIZE);
    }

    private boolean targetMissing(long p) {
        return (missing.get((int) (p >>> 6)) & (1L << (p & 63))) != 0;
    }

    /**
     * The target page holds its final bytes. In a huge-page block the host page becomes present only with
     * its last missing target page: until then guest accesses to any part of it wait.
     */
    @Override
    public void pagePlaced(long offset) {
        checkPage(offset);
        long p = offset / TARGET_PAGE_SIZE;
        long bit = 1L << (p & 63);
        long old = missing.getAndAccumulate((int) (p >>> 6), bit, (a, b) -> a & ~b);
        if ((old & bit) == 0) {
            return;
        }
        missingCount.decrementAndGet();
        if (hostMissing != null) {
            long first = p - p % targetsPerHostPage;
            for (long q = first; q < first + targetsPerHostPage; q++) {
                if (targetMissing(q)) {
                    return; // the host page is still incomplete: nobody may see it yet
                }
            }
            long h = offset / pageSize;
            synchronized (placed) {
                hostMissing.getAndAccumulate((int) (h >>> 6), 1L << (h & 63), (a, b) -> a & ~b);
                placed.notifyAll();
            }
            return;
        }
        synchronized (placed) {
            placed.notifyAll();
        }
    }

    @Override
    public long missingPages() {
        return missingCount.get();
    }

    @Override
    public void setPageFaultHandler(PageFaultHandler handler, long faultTimeoutMillis) {
        if (faultTimeoutMillis <= 0) {
            throw new IllegalArgumentException("fault timeout must be positive: " + faultTimeoutMillis);
        }
        this.faultHandler = handler;
        this.faultTimeoutMillis = faultTimeoutMillis;
    }

    /** A guest access to missing pages faults: the handler is told and the access waits for the pages. */
    private void awaitPresent(long offset, long len) {
        if (missingCount.get() == 0 || len == 0) {
            return;
        }
        for (long p = offset / TARGET_PAGE_SIZE; p <= (offset + len - 1) / TARGET_PAGE_SIZE; p++) {
            if (!pageMissing(p * TARGET_PAGE_SIZE)) {
                continue;
            }
            // the fault is on the host page: a huge page is requested and awaited whole
            long pageOffset = p * TARGET_PAGE_SIZE / pageSize * pageSize;
            PageFaultHandler h = faultHandler;
            long faultNanos = System.nanoTime();
            if (h != null) {
                h.pageFault(idstr, pageOffset);
            }
            long deadline = faultNanos + faultTimeoutMillis * 1_000_000L;
            synchronized (placed) {
                while (pageMissing(pageOffset)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new IllegalStateException("postcopy: page 0x" + Long.toHexString(pageOffset) + " of "
                                + idstr + " did not arrive within " + faultTimeoutMillis + " ms");
                    }
                    try {
                        placed.wait(Math.max(1, left / 1_000_000L));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted waiting for postcopy page 0x"
                                + Long.toHexString(pageOffset) + " of " + idstr, e);
                    }
                }
            }
            if (h != null) {
                h.pageArrived(idstr, pageOffset, System.nanoTime() - faultNanos);
            }
        }
    }

    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JRE", e);
        }
    }

    // ---------------------------------------------------------------- copy-before-write (live snapshots)

    /** The frozen view while a live snapshot saves this block, else null. */
    private volatile Frozen frozen;

    /** Guest writes: pages the frozen view still needs keep their old content aside first. */
    private void beforeWrite(long offset, long len) {
        Frozen f = frozen;
        if (f != null && len > 0) {
            f.beforeWrite(offset, len);
        }
    }

    @Override
    public synchronized org.savevm.api.machine.FrozenRamBlock freeze() {
        if (frozen != null) {
            throw new IllegalStateException("RAM block " + idstr + " is frozen already");
        }
        frozen = new Frozen();
        return frozen;
    }

    /**
     * The block as of {@link #freeze}: a bit per target page says "not read by the view, not written by the guest
     * since"; such a page reads from the live memory. The guest's first write to it copies the old content aside
     * (under the page's lock stripe) and clears the bit; the view's read of it copies it out and clears the bit,
     * so later writes go ahead without a copy. A page is read by the view once (a snapshot pass sends every page
     * once); {@link #isZero} only peeks.
     */
    private final class Frozen implements org.savevm.api.machine.FrozenRamBlock {
        private final long length = usedLength;
        private final AtomicLongArray pending = new AtomicLongArray((int) ((length / TARGET_PAGE_SIZE + 63) / 64));
        private final java.util.concurrent.ConcurrentHashMap<Long, byte[]> copies =
                new java.util.concurrent.ConcurrentHashMap<>();
        private final Object[] stripes = new Object[512];
        private final AtomicLong copied = new AtomicLong();
        private volatile boolean closed;

        Frozen() {
            long pages = length / TARGET_PAGE_SIZE;
            for (int w = 0; w < pending.length(); w++) {
                long left = pages - (long) w * 64;
                pending.set(w, left >= 64 ? -1L : (1L << left) - 1);
            }
            for (int i = 0; i < stripes.length; i++) {
                stripes[i] = new Object();
            }
        }

        private Object stripe(long page) {
            return stripes[(int) (page & (stripes.length - 1))];
        }

        private boolean isPending(long page) {
            return (pending.get((int) (page >>> 6)) & (1L << (page & 63))) != 0;
        }

        private void clear(long page) {
            pending.getAndAccumulate((int) (page >>> 6), 1L << (page & 63), (a, b) -> a & ~b);
        }

        private byte[] live(long page) {
            byte[] c = new byte[TARGET_PAGE_SIZE];
            long off = page * TARGET_PAGE_SIZE;
            chunk(off).get(inChunk(off), c, 0, TARGET_PAGE_SIZE);
            return c;
        }

        void beforeWrite(long offset, long len) {
            long first = offset / TARGET_PAGE_SIZE;
            long last = Math.min((offset + len - 1) / TARGET_PAGE_SIZE, length / TARGET_PAGE_SIZE - 1);
            for (long p = first; p <= last; p++) {
                if (isPending(p)) {
                    synchronized (stripe(p)) {
                        if (isPending(p)) {
                            copies.put(p, live(p));
                            clear(p);
                            copied.incrementAndGet();
                        }
                    }
                }
            }
        }

        /** The page's content at the instant; {@code consume}: the view's one read of it. */
        private byte[] content(long page, boolean consume) {
            synchronized (stripe(page)) {
                if (isPending(page)) {
                    byte[] c = live(page);
                    if (consume) {
                        clear(page);
                    }
                    return c;
                }
                byte[] c = consume ? copies.remove(page) : copies.get(page);
                if (c == null) {
                    throw new IllegalStateException("RAM block " + idstr + ": page 0x"
                            + Long.toHexString(page * TARGET_PAGE_SIZE) + " read twice from a frozen view");
                }
                return c;
            }
        }

        private void checkView(long offset, long len) {
            if (closed) {
                throw new IllegalStateException("RAM block " + idstr + ": frozen view used after close");
            }
            if (offset < 0 || len < 0 || offset > length - len) {
                throw new IndexOutOfBoundsException("RAM block " + idstr + ": range 0x" + Long.toHexString(offset)
                        + "+0x" + Long.toHexString(len) + " outside the frozen 0x" + Long.toHexString(length));
            }
        }

        @Override
        public long copiedPages() {
            return copied.get();
        }

        @Override
        public void close() {
            closed = true;
            synchronized (OffHeapRamBlock.this) {
                if (frozen == this) {
                    frozen = null;
                }
            }
            copies.clear();
        }

        @Override
        public String idstr() {
            return idstr;
        }

        @Override
        public long usedLength() {
            return length;
        }

        @Override
        public long maxLength() {
            return maxLength;
        }

        @Override
        public int pageSize() {
            return pageSize;
        }

        @Override
        public boolean resizeable() {
            return resizeable;
        }

        @Override
        public long regionAddress() {
            return regionAddress;
        }

        @Override
        public ByteBuffer page(long offset) {
            checkView(offset, TARGET_PAGE_SIZE);
            return ByteBuffer.wrap(content(offset / TARGET_PAGE_SIZE, true)).asReadOnlyBuffer();
        }

        @Override
        public ByteBuffer writablePage(long offset) {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read-only");
        }

        @Override
        public boolean untouched(long offset) {
            // never written now: never written at the instant either
            return OffHeapRamBlock.this.untouched(offset);
        }

        @Override
        public boolean untouched(long offset, int pages) {
            return OffHeapRamBlock.this.untouched(offset, pages);
        }

        @Override
        public boolean isZero(long offset, long len) {
            checkView(offset, len);
            for (long p = offset / TARGET_PAGE_SIZE; p < (offset + len) / TARGET_PAGE_SIZE; p++) {
                byte[] c = content(p, false);
                for (int i = 0; i < c.length; i++) {
                    if (c[i] != 0) {
                        return false;
                    }
                }
            }
            return true;
        }

        @Override
        public void write(long offset, byte[] src, int srcOffset, int len) {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read-only");
        }

        @Override
        public void fill(long offset, long len, byte value) {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read-only");
        }

        @Override
        public void read(long offset, byte[] dst, int dstOffset, int len) {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read page by page");
        }

        @Override
        public long syncDirtyLog(long[] bitmap) {
            return 0; // the instant does not change
        }

        @Override
        public void resize(long newUsedLength) {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read-only");
        }

        @Override
        public byte[] sha256() {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read page by page");
        }

        @Override
        public void discard(long offset, long len) {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read-only");
        }

        @Override
        public boolean pageMissing(long offset) {
            return false;
        }

        @Override
        public void pagePlaced(long offset) {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read-only");
        }

        @Override
        public void release(long offset, long len) {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read-only");
        }

        @Override
        public long missingPages() {
            return 0;
        }

        @Override
        public void setPageFaultHandler(PageFaultHandler handler, long faultTimeoutMillis) {
            throw new UnsupportedOperationException("RAM block " + idstr + ": a frozen view is read-only");
        }

        @Override
        public String toString() {
            return "frozen " + OffHeapRamBlock.this;
        }
    }

    @Override
    public String toString() {
        return idstr + " used 0x" + Long.toHexString(usedLength) + " max 0x" + Long.toHexString(maxLength);
    }
}
