package org.savevm.ram.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongSupplier;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.api.PendingBytes;
import org.savevm.api.machine.MultifdSender;
import org.savevm.api.machine.PageRange;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.api.settings.MigrationParameters;
import org.savevm.ram.codec.RamFlags;
import org.savevm.ram.codec.XbzrleEncoder;
import org.savevm.ram.internal.compress.CompressPool;
import org.savevm.ram.internal.compress.CompressedPageSink;
import org.savevm.ram.internal.xbzrle.PageCache;
import org.savevm.stream.MigrationOutput;

/**
 * One outgoing "ram" stream (QEMU's RAMState): the migration bitmap of every block, the page cursor,
 * the XBZRLE cache and the compression threads. Driven by the migration thread only.
 */
final class RamSaveSession
        implements LiveStateHandler.SaveSession, CompressedPageSink<RamSaveSession.BlockState>, RamPostcopySource {
    /** ram_save_iterate stops after this long (QEMU's MAX_WAIT, 50 ms), checked every 64 pages. */
    static final long MAX_WAIT_NANOS = 50_000_000L;
    private static final long RATE_PERIOD_NANOS = 1_000_000_000L;
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;

    /** A block with its migration bitmap (bit set: page still to send). */
    static final class BlockState {
        final RamBlock block;
        final int index;
        final long[] bitmap;
        /** ram_addr of the block: keys the XBZRLE cache. */
        final long ramAddr;

        BlockState(RamBlock block, int index, long ramAddr) {
            this.block = block;
            this.index = index;
            this.ramAddr = ramAddr;
            long maxPages = block.maxLength() / PAGE;
            this.bitmap = new long[(int) ((maxPages + 63) / 64)];
        }

        long pages() {
            return block.usedLength() / PAGE;
        }
    }

    private final MigrationSettings settings;
    private final LongSupplier clock;
    private final RamSaveStats stats;
    private final BlockState[] blocks;
    private final boolean xbzrle;
    private final boolean compress;
    private final PageCache cache;
    private final CompressPool<BlockState> compressPool;
    /** The multifd channels when the capability is on: every non-zero page goes there, not in the section. */
    private final MultifdSender multifd;
    private long multifdCounted;
    /** Zero checks of whole bitmap words on a second core; null with one CPU or with compression. */
    private final ZeroScanAhead zeroScan;
    private final byte[] current = new byte[PAGE];
    private final byte[] encoded = new byte[PAGE];
    private final byte[] zeroPage = new byte[PAGE];

    private long dirtyPages;
    private int seenBlock;
    private long seenPage;
    private BlockState lastSentBlock;
    private boolean xbzrleEnabled;
    private boolean lastStage;
    private MigrationOutput out;
    /** What a normal page is sent from: guest memory, or the XBZRLE cache's copy. */
    private ByteBuffer sendFrom;

    private long periodStartNanos;
    private long periodDirtyPages;
    private long periodStartTransferred;
    private long periodStartPagesSent;
    private long pagesSent;

    private final boolean postcopyRam;
    /** release-ram: pages sent in postcopy are given back on the source. */
    private final boolean releaseRam;
    private volatile boolean postcopy;
    /** Page requests from the destination (return-path thread), served first by the migration thread. */
    private final ConcurrentLinkedQueue<PageRequest> requests = new ConcurrentLinkedQueue<>();

    /** A requested range of pages, consumed from its start. */
    private static final class PageRequest {
        final int block;
        long page;
        final long end;

        PageRequest(int block, long page, long end) {
            this.block = block;
            this.page = page;
            this.end = end;
        }
    }

    RamSaveSession(List<RamBlock> ramBlocks, MigrationSettings settings, MultifdSender multifd, LongSupplier clock,
            RamSaveStats stats) {
        this.settings = settings;
        this.clock = clock;
        this.stats = stats;
        this.blocks = new BlockState[ramBlocks.size()];
        long addr = 0;
        for (int i = 0; i < blocks.length; i++) {
            RamBlock b = ramBlocks.get(i);
            blocks[i] = new BlockState(b, i, addr);
            addr += b.maxLength();
        }
        this.xbzrle = settings.capability("xbzrle");
        this.postcopyRam = settings.capability("postcopy-ram");
        this.releaseRam = settings.capability("release-ram");
        this.compress = settings.capability("compress");
        long cacheSize = settings.parameter("xbzrle-cache-size", MigrationParameters.XBZRLE_CACHE_SIZE_DEFAULT);
        this.cache = xbzrle ? new PageCache(cacheSize, PAGE) : null;
        stats.xbzrleCacheSize = xbzrle ? cacheSize : 0;
        this.compressPool = compress ? new CompressPool<>((int) settings.parameter("compress-threads", 8),
                (int) settings.parameter("compress-level", 1), settings.parameter("compress-wait-thread", 1) != 0,
                "savevm-compress") : null;
        this.multifd = multifd;
        this.zeroScan = !compress && Runtime.getRuntime().availableProcessors() > 1
                ? new ZeroScanAhead(ramBlocks.toArray(new RamBlock[0])) : null;
    }

    // ---- setup ----------------------------------------------------------------------------------

    @Override
    public void setup(MigrationOutput out) throws IOException {
        this.out = out;
        long total = 0;
        for (BlockState b : blocks) {
            long pages = b.pages();
            int fullWords = (int) (pages >>> 6);
            java.util.Arrays.fill(b.bitmap, 0, fullWords, -1L);
            if ((pages & 63) != 0) {
                b.bitmap[fullWords] |= (1L << (pages & 63)) - 1;
            }
            dirtyPages += pages;
            total += b.block.usedLength();
        }
        stats.total = total;
        stats.startNanos = clock.getAsLong();
        periodStartNanos = stats.startNanos;
        // ram_init_bitmaps: everything is dirty; the first sync only clears the guest's log.
        bitmapSync();
        periodDirtyPages = 0;
        lastSentBlock = null;

        long start = out.position();
        out.putBe64(total | RamFlags.MEM_SIZE);
        boolean ignoreShared = settings.capability("x-ignore-shared");
        for (BlockState b : blocks) {
            out.putCountedString(b.block.idstr());
            out.putBe64(b.block.usedLength());
            if (settings.capability("postcopy-ram") && b.block.pageSize() != PAGE) {
                out.putBe64(b.block.pageSize());
            }
            if (ignoreShared) {
                out.putBe64(b.block.regionAddress());
            }
        }
        stats.transferred += out.position() - start;
        putEos(out);
        stats.remaining = dirtyPages * PAGE;
        out.checkError();
    }

    // ---- iterate / complete -----------------------------------------------------------------------

    @Override
    public boolean iterate(MigrationOutput out) throws IOException {
        this.out = out;
        if (zeroScan != null && stats.iterations == 0) {
            zeroScan.start();
        }
        boolean done = false;
        long t0 = clock.getAsLong();
        int i = 0;
        // As QEMU's postcopy_has_request: pages a faulting destination waits for go out despite the limit.
        while (!out.rateLimitExceeded() || (!requests.isEmpty() && out.error() == null)) {
            int pages = findAndSaveBlock();
            if (pages == 0) {
                done = true;
                break;
            }
            if ((i & 63) == 0 && clock.getAsLong() - t0 > MAX_WAIT_NANOS) {
                break;
            }
            i++;
        }
        flushCompressed();
        putEos(out);
        stats.remaining = dirtyPages * PAGE;
        out.checkError();
        return done;
    }

    @Override
    public void completePrecopy(MigrationOutput out) throws IOException {
        complete(out, true);
    }

    /** After postcopy the source guest is long stopped: no sync, the rest of the bitmap goes out. */
    @Override
    public void completePostcopy(MigrationOutput out) throws IOException {
        complete(out, !postcopy);
    }

    private void complete(MigrationOutput out, boolean sync) throws IOException {
        this.out = out;
        lastStage = true;
        if (zeroScan != null) {
            zeroScan.close();
        }
        if (sync) {
            bitmapSync();
        }
        while (findAndSaveBlock() != 0) {
            if (out.error() != null) {
                break;
            }
        }
        flushCompressed();
        putEos(out);
        stats.remaining = dirtyPages * PAGE;
        stats.endNanos = clock.getAsLong();
        out.checkError();
    }

    @Override
    public PendingBytes pending(boolean exact) throws IOException {
        if (exact) {
            bitmapSync();
        }
        stats.remaining = dirtyPages * PAGE;
        // With postcopy-ram every RAM byte may also go after the switchover (QEMU's res_compatible).
        return postcopyRam ? new PendingBytes(0, dirtyPages * PAGE) : new PendingBytes(dirtyPages * PAGE, 0);
    }

    /** The first round over every block has ended (or nothing is left to send at all). */
    @Override
    public boolean firstPassDone() {
        return stats.iterations > 0 || dirtyPages == 0;
    }

    /** Pages still marked in the migration bitmap. */
    long dirtyPages() {
        return dirtyPages;
    }

    // ---- bitmap ------------------------------------------------------------------------------------

    /** QEMU's migration_bitmap_sync: takes the guest's dirty log into the migration bitmap. */
    void bitmapSync() {
        if (zeroScan != null) {
            zeroScan.invalidate();
        }
        long newly = 0;
        for (BlockState b : blocks) {
            newly += b.block.syncDirtyLog(b.bitmap);
        }
        dirtyPages += newly;
        periodDirtyPages += newly;
        stats.dirtySyncCount++;
        long now = clock.getAsLong();
        if (now - periodStartNanos >= RATE_PERIOD_NANOS) {
            long ms = (now - periodStartNanos) / 1_000_000L;
            stats.dirtyPagesRate = periodDirtyPages * 1000 / ms;
            stats.pagesPerSecond = (pagesSent - periodStartPagesSent) * 1000 / ms;
            stats.bytesDirtyPeriod = periodDirtyPages * PAGE;
            stats.bytesXferPeriod = stats.transferred - periodStartTransferred;
            periodStartNanos = now;
            periodDirtyPages = 0;
            periodStartTransferred = stats.transferred;
            periodStartPagesSent = pagesSent;
        }
        stats.remaining = dirtyPages * PAGE;
    }

    /** First dirty page at or after {@code start} in block {@code bi}, or its page count. */
    private long findNextDirty(BlockState b, long start) {
        long size = b.pages();
        if (start >= size) {
            return size;
        }
        int w = (int) (start >>> 6);
        long word = b.bitmap[w] & (-1L << (start & 63));
        int words = (int) ((size + 63) >>> 6);
        while (true) {
            if (word != 0) {
                long p = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return Math.min(p, size);
            }
            if (++w >= words) {
                return size;
            }
            word = b.bitmap[w];
        }
    }

    private boolean clearDirty(BlockState b, long page) {
        int w = (int) (page >>> 6);
        long bit = 1L << (page & 63);
        if ((b.bitmap[w] & bit) == 0) {
            return false;
        }
        b.bitmap[w] &= ~bit;
        dirtyPages--;
        return true;
    }

    // ---- page search (ram_find_and_save_block / find_dirty_block) ----------------------------------

    /** Sends the next dirty page; 0 when a whole round found nothing. */
    int findAndSaveBlock() throws IOException {
        if (stats.total == 0) {
            return 0;
        }
        if (!requests.isEmpty()) {
            int pages = saveRequestedPage();
            if (pages > 0) {
                return pages;
            }
        }
        int bi = seenBlock;
        long page = seenPage;
        boolean completeRound = false;
        int pages = 0;
        boolean again;
        do {
            again = true;
            BlockState b = blocks[bi];
            page = findNextDirty(b, page);
            if (completeRound && bi == seenBlock && page >= seenPage) {
                again = false;
            } else if (page >= b.pages()) {
                page = 0;
                bi++;
                if (bi == blocks.length) {
                    // End of a pass: pages still in the compression threads must land before the same
                    // pages are sent again; after the first full pass XBZRLE takes over from compression.
                    flushCompressed();
                    bi = 0;
                    completeRound = true;
                    stats.iterations++;
                    if (xbzrle) {
                        xbzrleEnabled = true;
                    }
                }
            } else if ((page & 63) == 0 && zeroRunAllowed() && (pages = saveZeroRun(b, page)) > 0) {
                page += pages;
            } else {
                if (clearDirty(b, page)) {
                    pages = saveTargetPage(b, page);
                }
                page++;
                if (postcopy && pages > 0) {
                    // ram_save_host_page: the rest of a huge host page follows at once, before any request,
                    // as the destination places it only whole
                    int perHost = b.block.pageSize() / PAGE;
                    while (perHost > 1 && page % perHost != 0 && page < b.pages()) {
                        if (clearDirty(b, page)) {
                            pages += saveTargetPage(b, page);
                        }
                        page++;
                    }
                }
            }
        } while (pages == 0 && again);
        seenBlock = bi;
        seenPage = page;
        return pages;
    }

    /**
     * QEMU's get_queued_page: the first still-dirty page of the oldest request; the background search then
     * goes on from there, as the guest is likely to want nearby pages next.
     */
    private int saveRequestedPage() throws IOException {
        PageRequest r;
        while ((r = requests.peek()) != null) {
            BlockState b = blocks[r.block];
            while (r.page < r.end) {
                long p = r.page++;
                if (clearDirty(b, p)) {
                    int pages = saveTargetPage(b, p);
                    seenBlock = r.block;
                    seenPage = p + 1;
                    if (pages > 0) {
                        if (r.page >= r.end) {
                            // a faulting guest waits for this (host) page: it leaves now, not with the next batch
                            out.flush();
                        }
                        return pages;
                    }
                }
            }
            requests.poll();
            out.flush();
        }
        return 0;
    }

    // ---- postcopy (RamPostcopySource) ---------------------------------------------------------------

    @Override
    public List<PageRange> startPostcopy() {
        bitmapSync();
        for (BlockState b : blocks) {
            chunkHostPages(b);
        }
        List<PageRange> ranges = new ArrayList<>();
        for (BlockState b : blocks) {
            long end = b.pages();
            long p = findNextDirty(b, 0);
            while (p < end) {
                long q = p + 1;
                while (q < end && (b.bitmap[(int) (q >>> 6)] & (1L << (q & 63))) != 0) {
                    q++;
                }
                ranges.add(new PageRange(b.block.idstr(), p * PAGE, (q - p) * PAGE));
                p = findNextDirty(b, q);
            }
        }
        // Start the postcopy pass from the beginning, as QEMU does after sending the discards.
        seenBlock = 0;
        seenPage = 0;
        postcopy = true;
        return ranges;
    }

    /**
     * QEMU's postcopy_chunk_hostpages_pass: in a block of larger host pages a host page with any dirty target
     * page becomes dirty whole, so that it is discarded, sent and placed as one.
     */
    private void chunkHostPages(BlockState b) {
        int perHost = b.block.pageSize() / PAGE;
        if (perHost <= 1) {
            return;
        }
        long pages = b.pages();
        for (long first = 0; first < pages; first += perHost) {
            long end = Math.min(pages, first + perHost);
            if (findNextDirty(b, first) >= end) {
                continue;
            }
            for (long p = first; p < end; p++) {
                int w = (int) (p >>> 6);
                long bit = 1L << (p & 63);
                if ((b.bitmap[w] & bit) == 0) {
                    b.bitmap[w] |= bit;
                    dirtyPages++;
                }
            }
        }
    }

    @Override
    public void requestPages(String idstr, long start, long length) {
        for (int i = 0; i < blocks.length; i++) {
            RamBlock b = blocks[i].block;
            if (b.idstr().equals(idstr)) {
                if (start < 0 || length <= 0 || start + length > b.usedLength()) {
                    throw new IllegalArgumentException("ram_save_queue_pages request overrun, start=0x"
                            + Long.toHexString(start) + " len=0x" + Long.toHexString(length) + " blocklen=0x"
                            + Long.toHexString(b.usedLength()));
                }
                requests.add(new PageRequest(i, start / PAGE, (start + length + PAGE - 1) / PAGE));
                return;
            }
        }
        throw new IllegalArgumentException("ram_save_queue_pages no block '" + idstr + "'");
    }

    @Override
    public boolean inPostcopy() {
        return postcopy;
    }

    // ---- postcopy recovery -------------------------------------------------------------------------

    @Override
    public List<String> recoveryBlocks() {
        List<String> names = new ArrayList<>(blocks.length);
        for (BlockState b : blocks) {
            names.add(b.block.idstr());
        }
        return names;
    }

    @Override
    public long receivedBitmapBytes(String idstr) {
        BlockState b = blockNamed(idstr);
        return b == null ? -1 : (b.pages() + 63) / 64 * 8;
    }

    private BlockState blockNamed(String idstr) {
        for (BlockState b : blocks) {
            if (b.block.idstr().equals(idstr)) {
                return b;
            }
        }
        return null;
    }

    /**
     * QEMU's ram_dirty_bitmap_reload: the dirty bitmap becomes the complement of what the destination
     * received, so a page lost with the broken channel goes again and a page that arrived does not.
     */
    @Override
    public synchronized void reloadDirtyBitmap(String idstr, byte[] le) {
        BlockState b = blockNamed(idstr);
        if (b == null) {
            throw new IllegalArgumentException("ram_dirty_bitmap_reload: no block '" + idstr + "'");
        }
        long expected = receivedBitmapBytes(idstr);
        if (le.length != expected) {
            throw new IllegalArgumentException("ramblock '" + idstr + "' bitmap size mismatch (0x"
                    + Long.toHexString(le.length) + " != 0x" + Long.toHexString(expected) + ")");
        }
        java.nio.ByteBuffer words = java.nio.ByteBuffer.wrap(le).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long pages = b.pages();
        int n = (int) ((pages + 63) >>> 6);
        for (int w = 0; w < n; w++) {
            long dirty = ~words.getLong(w * 8);
            if (w == n - 1 && (pages & 63) != 0) {
                dirty &= (1L << (pages & 63)) - 1;
            }
            b.bitmap[w] = dirty;
        }
        java.util.Arrays.fill(b.bitmap, n, b.bitmap.length, 0L);
        chunkHostPages(b);
    }

    /** QEMU's ram_state_resume_prepare: count what is dirty now, search from the start, name the next block. */
    @Override
    public synchronized void resumePrepare() {
        long dirty = 0;
        for (BlockState b : blocks) {
            for (long w : b.bitmap) {
                dirty += Long.bitCount(w);
            }
        }
        dirtyPages = dirty;
        stats.remaining = dirtyPages * PAGE;
        seenBlock = 0;
        seenPage = 0;
        lastSentBlock = null;
    }

    // ---- one page (ram_save_target_page) ------------------------------------------------------------

    private boolean compressActive() {
        return compress && !xbzrleEnabled;
    }

    private int saveTargetPage(BlockState b, long pageIndex) throws IOException {
        long offset = pageIndex * PAGE;
        ByteBuffer page = b.block.page(offset);
        if (!(releaseRam && postcopy)) {
            return saveTargetPage(b, offset, page);
        }
        // release-ram (QEMU's ram_release_page): the record may leave the buffer after the page is given
        // back, so it goes out from a copy
        ByteBuffer copy = ByteBuffer.allocate(PAGE);
        copy.put(page).flip();
        int pages = saveTargetPage(b, offset, copy.asReadOnlyBuffer());
        if (pages > 0) {
            b.block.release(offset, PAGE);
            stats.releasedPages++;
        }
        return pages;
    }

    private int saveTargetPage(BlockState b, long offset, ByteBuffer page) throws IOException {
        if (compressActive()) {
            if (b != lastSentBlock) {
                // The first page of a block visit goes out uncompressed, after everything before it.
                flushCompressed();
            } else if (compressPool.submit(b, offset, page, this)) {
                if (postcopy) {
                    // a postcopy page must reach the destination now: the guest may be waiting for it
                    flushCompressed();
                }
                pagesSent++;
                return 1;
            } else {
                stats.compressBusy++;
            }
        }
        // a never-written page is zero without reading it (as QEMU reading the kernel's zero page)
        if (b.block.untouched(offset) || ZeroPages.isZero(page)) {
            saveZeroPage(b, offset);
            if (xbzrleEnabled) {
                // A stale cached copy would make a later delta wrong. May fail on a fresh slot: fine.
                cache.insert(b.ramAddr + offset, zeroPage, 0, stats.dirtySyncCount);
            }
            pagesSent++;
            return 1;
        }
        if (multifd != null && !postcopy) {
            // ram_save_multifd_page: no XBZRLE nor normal record, the page travels in a channel's packet
            multifd.queuePage(b.block, offset);
            stats.normal++;
            accountMultifd();
            pagesSent++;
            return 1;
        }
        sendFrom = page;
        int pages = -1;
        if (xbzrleEnabled && !postcopy) {
            pages = saveXbzrlePage(b, offset, page);
        }
        if (pages == -1) {
            saveNormalPage(b, offset, sendFrom);
            pages = 1;
        }
        sendFrom = null;
        if (pages > 0) {
            pagesSent++;
        }
        return pages;
    }

    /** The 64-page zero run applies only where each page would be a plain zero record anyway. */
    private boolean zeroRunAllowed() {
        return !compressActive() && !xbzrleEnabled && !postcopy;
    }

    /**
     * Sixty-four dirty pages in one bitmap word that are all zero (never written, or checked in one
     * sweep of 256 KiB) go out as 64 zero records, the same bytes the page-at-a-time path writes, for a
     * fraction of its cost per page. 0 when the word is not all dirty or the range holds data.
     */
    private int saveZeroRun(BlockState b, long page) {
        int w = (int) (page >>> 6);
        if (b.bitmap[w] != -1L || page + 64 > b.pages()) {
            return 0;
        }
        long offset = page * PAGE;
        if (!b.block.untouched(offset, 64)
                && !(zeroScan != null ? zeroScan.groupIsZero(b.index, w) : b.block.isZero(offset, 64L * PAGE))) {
            return 0;
        }
        b.bitmap[w] = 0;
        dirtyPages -= 64;
        long bytes = 0;
        for (int i = 0; i < 64; i++) {
            bytes += putZeroRecord(b, offset + (long) i * PAGE);
        }
        // the counters are volatile (query-migrate reads them): once per run, not per page
        stats.duplicate += 64;
        stats.transferred += bytes;
        pagesSent += 64;
        return 64;
    }

    /**
     * The end of a round: with multifd, first the channels' SYNC packets (multifd_send_sync_main), then EOS,
     * which the destination answers by waiting for those syncs; the EOS is flushed at once, because until
     * the destination reads it its channels stand still.
     */
    private void putEos(MigrationOutput out) throws IOException {
        if (multifd != null) {
            multifd.syncMain();
            accountMultifd();
        }
        out.putBe64(RamFlags.EOS);
        stats.transferred += 8;
        if (multifd != null) {
            out.flush();
        }
    }

    /**
     * Adds what the channels have sent since the last look to the transferred count. Compressed channels
     * correct their count as they compress, after the hand-off, so this takes the difference each time.
     */
    private void accountMultifd() {
        long now = multifd.bytes();
        stats.transferred += now - multifdCounted;
        multifdCounted = now;
    }

    /** Record header: be64 offset|flags, plus the block idstr unless it is the last one sent. */
    private int putHeader(BlockState b, long offset, int flags) {
        if (b == lastSentBlock) {
            out.putBe64(offset | flags | RamFlags.CONTINUE);
            return 8;
        }
        out.putBe64(offset | flags);
        out.putCountedString(b.block.idstr());
        lastSentBlock = b;
        return 8 + 1 + b.block.idstr().length();
    }

    private void saveZeroPage(BlockState b, long offset) {
        int n = putZeroRecord(b, offset);
        stats.duplicate++;
        stats.transferred += n;
    }

    /** QEMU's save_zero_page record: header with ZERO, then the fill byte 0. Returns its length. */
    private int putZeroRecord(BlockState b, long offset) {
        int n = putHeader(b, offset, RamFlags.ZERO);
        out.putByte(0);
        return n + 1;
    }

    private void saveNormalPage(BlockState b, long offset, ByteBuffer data) {
        int n = putHeader(b, offset, RamFlags.PAGE);
        out.putBuffer(data.duplicate());
        stats.normal++;
        stats.transferred += n + PAGE;
    }

    /**
     * QEMU's save_xbzrle_page: 1 when an XBZRLE record went out, 0 when the page is unchanged since it was
     * cached (nothing to send), -1 for a normal page (cache miss or overflow), sent from {@link #sendFrom}.
     */
    private int saveXbzrlePage(BlockState b, long offset, ByteBuffer page) {
        long addr = b.ramAddr + offset;
        long age = stats.dirtySyncCount;
        if (!cache.isCached(addr, age)) {
            stats.xbzrleCacheMiss++;
            if (!lastStage) {
                page.duplicate().get(current);
                byte[] cached = cache.insert(addr, current, 0, age);
                if (cached != null) {
                    sendFrom = ByteBuffer.wrap(cached);
                }
            }
            return -1;
        }
        stats.xbzrlePages++;
        byte[] prev = cache.get(addr);
        page.duplicate().get(current);
        int len = XbzrleEncoder.encode(prev, current, PAGE, encoded, PAGE);
        if (!lastStage && len != 0) {
            System.arraycopy(current, 0, prev, 0, PAGE);
            // Send what the cache now holds: the guest may already have changed the page again.
            sendFrom = ByteBuffer.wrap(prev);
        }
        if (len == XbzrleEncoder.UNCHANGED) {
            return 0;
        }
        if (len == XbzrleEncoder.OVERFLOW) {
            stats.xbzrleOverflow++;
            stats.xbzrleBytes += PAGE;
            return -1;
        }
        int n = putHeader(b, offset, RamFlags.XBZRLE);
        out.putByte(RamFlags.ENCODING_FLAG_XBZRLE);
        out.putBe16(len);
        out.putBytes(encoded, 0, len);
        long bytes = n + 3 + len;
        stats.xbzrleBytes += bytes - 8;
        stats.transferred += bytes;
        return 1;
    }

    // ---- compression results -------------------------------------------------------------------------

    private void flushCompressed() throws IOException {
        if (compressPool != null && compressPool.hasPending()) {
            compressPool.flush(this);
        }
    }

    @Override
    public void zeroPage(BlockState b, long offset) {
        saveZeroPage(b, offset);
    }

    @Override
    public void compressedPage(BlockState b, long offset, byte[] data, int len) {
        int n = putHeader(b, offset, RamFlags.COMPRESS_PAGE);
        out.putBe32(len);
        out.putBytes(data, 0, len);
        stats.compressedPages++;
        stats.compressedSize += len;
        stats.transferred += n + 4 + len;
    }

    @Override
    public void close() {
        if (stats.endNanos == 0) {
            stats.endNanos = clock.getAsLong();
        }
        if (compressPool != null) {
            compressPool.close();
        }
        if (zeroScan != null) {
            zeroScan.close();
        }
    }
}
