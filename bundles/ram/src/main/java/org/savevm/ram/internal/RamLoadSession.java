package org.savevm.ram.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.MultifdReceiver;
import org.savevm.api.machine.PageRange;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamPostcopyDestination;
import org.savevm.ram.codec.PageCompression;
import org.savevm.ram.codec.RamFlags;
import org.savevm.ram.codec.RecordBlocks;
import org.savevm.ram.codec.XbzrleDecoder;
import org.savevm.ram.internal.compress.DecompressPool;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * One incoming "ram" stream (QEMU's ram_load_precopy): reads records until EOS in each section, into the
 * machine's RAM blocks. The last block named is remembered across sections (CONTINUE may refer to it).
 * Every refusal names the record's byte offset.
 */
final class RamLoadSession implements LiveStateHandler.LoadSession, RamPostcopyDestination {
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;

    private final Machine machine;
    private final MigrationSettings settings;
    private final boolean compressAccepted;
    private final int decompressThreads;
    private final byte[] encoded = new byte[PAGE];
    private final byte[] scratch = new byte[PAGE];
    private final Map<RamBlock, Integer> blockIndex = new IdentityHashMap<>();
    /** Pages with a decompression in flight: written again only after the pool is drained. */
    private final Set<Long> decompressing = new HashSet<>();
    private DecompressPool pool;
    private RecordObserver observer;
    private final RecordBlocks<RamBlock> recordBlocks;
    private long pagesLoaded;
    private volatile boolean postcopy;
    private final MultifdReceiver multifd;

    RamLoadSession(Machine machine, MigrationSettings settings, MultifdReceiver multifd) {
        this.machine = machine;
        this.recordBlocks = new RecordBlocks<>((id, at) -> machine.ramBlock(id)
                .orElseThrow(() -> new MigrationStreamException("ram: Can't find block " + id, at)));
        this.settings = settings;
        this.compressAccepted = settings.capability("compress");
        this.multifd = multifd;
        this.decompressThreads = (int) settings.parameter("decompress-threads", 2);
        List<RamBlock> blocks = machine.ramBlocks();
        for (int i = 0; i < blocks.size(); i++) {
            blockIndex.put(blocks.get(i), i);
        }
    }

    /** Sees every page record as it is applied; for conformance tests against real streams. */
    interface RecordObserver {
        /** Any page record, before it is applied. */
        default void record(RamBlock block, long addr, int flags) {
        }

        default void xbzrle(RamBlock block, long addr, byte[] before, byte[] encoded, int len, byte[] after) {
        }

        default void compressed(RamBlock block, long addr, int flags, byte[] data, int len) {
        }
    }

    void observe(RecordObserver o) {
        this.observer = o;
    }

    long pagesLoaded() {
        return pagesLoaded;
    }

    @Override
    public void load(MigrationInput in, int version) throws IOException {
        if (version != RamFlags.VERSION) {
            throw new MigrationStreamException("ram: unsupported version " + version + " (only 4)", in.position());
        }
        try {
            loadRecords(in);
        } finally {
            if (pool != null) {
                waitDecompression();
            }
        }
    }

    private void loadRecords(MigrationInput in) throws IOException {
        int flags = 0;
        while ((flags & RamFlags.EOS) == 0) {
            long at = in.position();
            long v = in.getBe64();
            flags = (int) (v & ~RamFlags.TARGET_PAGE_MASK);
            long addr = v & RamFlags.TARGET_PAGE_MASK;

            if ((flags & RamFlags.COMPRESS_PAGE) != 0 && !compressAccepted) {
                throw new MigrationStreamException("ram: Received an unexpected compressed page (capability compress "
                        + "is off)", at);
            }
            RamBlock block = null;
            ByteBuffer host = null;
            if ((flags & RamFlags.PAGE_KINDS) != 0) {
                block = recordBlocks.read(in, flags, at);
                // unsigned: an address with bit 63 set is past every block, not before it
                if (Long.compareUnsigned(addr, block.usedLength()) >= 0) {
                    throw new MigrationStreamException("ram: Illegal RAM offset 0x" + Long.toHexString(addr)
                            + " in block " + block.idstr() + " (used length 0x" + Long.toHexString(block.usedLength())
                            + ")", at);
                }
                if (!decompressing.isEmpty() && decompressing.contains(pageKey(block, addr))) {
                    waitDecompression();
                }
                if ((flags & RamFlags.ZERO) == 0) {
                    host = block.incomingPage(addr);
                }
                if (observer != null) {
                    observer.record(block, addr, flags);
                }
            }
            if (postcopy && (flags & RamFlags.XBZRLE) != 0) {
                throw new MigrationStreamException("ram: Unknown combination of migration flags: 0x"
                        + Integer.toHexString(flags) + " (postcopy mode)", at);
            }
            switch (flags & ~RamFlags.CONTINUE) {
                case RamFlags.MEM_SIZE -> loadBlockList(in, addr, at);
                case RamFlags.ZERO -> {
                    int ch = in.getByte();
                    // a never-written page is zero already: no need to read it (QEMU's destination reads
                    // the kernel's zero page there, as cheap)
                    if (ch != 0 || !block.untouched(addr)) {
                        host = block.incomingPage(addr);
                        if (ch != 0 || !ZeroPages.isZero(host)) {
                            fill(host, (byte) ch);
                        }
                    }
                    placed(block, addr);
                    pagesLoaded++;
                }
                case RamFlags.PAGE -> {
                    in.readFully(host);
                    placed(block, addr);
                    pagesLoaded++;
                }
                case RamFlags.COMPRESS_PAGE -> {
                    loadCompressed(in, block, addr, host, at);
                    pagesLoaded++;
                }
                case RamFlags.XBZRLE -> {
                    loadXbzrle(in, block, addr, host, at);
                    placed(block, addr);
                    pagesLoaded++;
                }
                case RamFlags.EOS -> {
                    // multifd_recv_sync_main: the pages the channels carried this round are in RAM after it
                    if (multifd != null) {
                        multifd.syncMain();
                    }
                }
                default -> {
                    if ((flags & RamFlags.HOOK) != 0) {
                        throw new MigrationStreamException("ram: RDMA hook record (flags 0x" + Integer.toHexString(flags)
                                + ") is not supported", at);
                    }
                    throw new MigrationStreamException("ram: Unknown combination of migration flags: 0x"
                            + Integer.toHexString(flags), at);
                }
            }
        }
    }

    /** A page has its final bytes: a guest waiting for it (postcopy) goes on. */
    private static void placed(RamBlock block, long addr) {
        if (block.missingPages() != 0) {
            block.pagePlaced(addr);
        }
    }

    // ---- postcopy ------------------------------------------------------------------------------------

    @Override
    public void discard(PageRange range) {
        RamBlock b = machine.ramBlock(range.idstr()).orElseThrow(() -> new IllegalArgumentException(
                "postcopy discard: unknown RAM block '" + range.idstr() + "'"));
        // unsigned and without overflow: start and length are the stream's 64-bit values
        if (Long.compareUnsigned(range.start(), b.usedLength()) > 0
                || Long.compareUnsigned(range.length(), b.usedLength() - range.start()) > 0) {
            throw new IllegalArgumentException("postcopy discard past the end of " + range.idstr() + ": 0x"
                    + Long.toHexString(range.start()) + "+0x" + Long.toHexString(range.length()) + " > 0x"
                    + Long.toHexString(b.usedLength()));
        }
        b.discard(range.start(), range.length());
    }

    @Override
    public void listen() {
        postcopy = true;
    }

    @Override
    public boolean listening() {
        return postcopy;
    }

    @Override
    public long missingPages() {
        long n = 0;
        for (RamBlock b : machine.ramBlocks()) {
            n += b.missingPages();
        }
        return n;
    }

    private long pageKey(RamBlock b, long addr) {
        return ((long) blockIndex.getOrDefault(b, 0xffff) << 48) | (addr / PAGE);
    }

    private static void fill(ByteBuffer page, byte value) {
        long pattern = (value & 0xffL) * 0x0101010101010101L;
        for (int i = 0; i < PAGE; i += 8) {
            page.putLong(i, pattern);
        }
    }

    /** MEM_SIZE: the source's block list; every block must exist here, lengths must match or be resizable. */
    private void loadBlockList(MigrationInput in, long total, long at) throws IOException {
        long remaining = total;
        boolean postcopy = settings.capability("postcopy-ram");
        boolean ignoreShared = settings.capability("x-ignore-shared");
        while (remaining != 0) {
            long entryAt = in.position();
            String id = in.getCountedString();
            long length = in.getBe64();
            RamBlock b = machine.ramBlock(id).orElseThrow(() -> new MigrationStreamException(
                    "ram: Unknown ramblock \"" + id + "\", cannot accept migration", entryAt));
            if (length != b.usedLength()) {
                resize(b, length, entryAt);
            }
            if (postcopy && b.pageSize() != PAGE) {
                long remotePageSize = in.getBe64();
                if (remotePageSize != b.pageSize()) {
                    throw new MigrationStreamException("ram: Mismatched RAM page size " + id + " (local) "
                            + b.pageSize() + " != " + remotePageSize, entryAt);
                }
            }
            if (ignoreShared) {
                in.getBe64(); // mr->addr: only checked for ignored (shared) blocks, of which we have none
            }
            if (Long.compareUnsigned(length, remaining) > 0) {
                throw new MigrationStreamException("ram: block list lengths exceed the MEM_SIZE total 0x"
                        + Long.toHexString(total) + " at block " + id, entryAt);
            }
            remaining -= length;
        }
    }

    private static void resize(RamBlock b, long length, long at) throws MigrationStreamException {
        if (!b.resizeable()) {
            throw new MigrationStreamException("ram: Size mismatch: " + b.idstr() + ": 0x" + Long.toHexString(length)
                    + " != 0x" + Long.toHexString(b.usedLength()), at);
        }
        if (length > b.maxLength() || length <= 0 || length % PAGE != 0) {
            throw new MigrationStreamException("ram: Length too large: " + b.idstr() + ": 0x"
                    + Long.toHexString(length) + " > 0x" + Long.toHexString(b.maxLength()), at);
        }
        b.resize(length);
    }

    private void loadCompressed(MigrationInput in, RamBlock block, long addr, ByteBuffer host, long at)
            throws IOException {
        int len = PageCompression.readLength(in, at, PageCompression.MAX_COMPRESSED);
        if (pool == null) {
            pool = new DecompressPool(Math.max(1, decompressThreads), "savevm-decompress");
        }
        Object job = pool.reserve();
        in.readFully(DecompressPool.buffer(job), 0, len);
        if (observer != null) {
            observer.compressed(block, addr, RamFlags.COMPRESS_PAGE, java.util.Arrays.copyOf(DecompressPool.buffer(job), len),
                    len);
        }
        decompressing.add(pageKey(block, addr));
        Runnable onPlaced = block.missingPages() != 0 ? () -> block.pagePlaced(addr) : null;
        pool.start(job, len, host, at, "page 0x" + Long.toHexString(addr) + " of " + block.idstr(), onPlaced);
    }

    private void waitDecompression() throws IOException {
        decompressing.clear();
        pool.waitAll();
    }

    private void loadXbzrle(MigrationInput in, RamBlock block, long addr, ByteBuffer host, long at)
            throws IOException {
        int len = XbzrleDecoder.readLength(in, at, PAGE);
        in.readFully(encoded, 0, len);
        host.get(0, scratch, 0, PAGE);
        int r = XbzrleDecoder.decode(encoded, len, scratch, PAGE);
        if (r < 0) {
            throw new MigrationStreamException("ram: Failed to decompress XBZRLE page at 0x" + Long.toHexString(addr)
                    + " of " + block.idstr() + " (decode error at byte " + XbzrleDecoder.failedAt(r)
                    + " of " + len + ")", at);
        }
        if (observer != null) {
            byte[] before = new byte[PAGE];
            host.get(0, before, 0, PAGE);
            observer.xbzrle(block, addr, before, java.util.Arrays.copyOf(encoded, len), len, scratch.clone());
        }
        host.put(0, scratch, 0, PAGE);
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.close();
        }
    }
}
