package org.savevm.image.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.CacheMode;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.FileIo;
import org.savevm.image.internal.ImageLocks;

/**
 * A qcow2 image (QEMU's block/qcow2.c, qcow2-cluster.c, qcow2-refcount.c): version 3 (and 2) read and write,
 * backing chains, zero clusters, compressed clusters read, copy-on-write of clusters and L2 tables shared with
 * internal snapshots (their refcount is above 1: the COPIED flag is clear).
 *
 * <p>Writes are ordered so that a crash can only leak clusters: new data clusters are written, their refcounts raised
 * (written), then the L2 entries pointing at them written, and only then are replaced clusters' refcounts lowered.
 * A new L2 table is written complete before the L1 entry naming it. Metadata is written through (no dirty cache, no
 * lazy refcounts, so the header's dirty bit is never set); {@link #flush()} makes it durable with one fsync.
 *
 * <p>Thread-safe: one lock per image serializes requests (the L2 cache and the allocator are not concurrent).
 */
public final class Qcow2Image implements BlockImage {
    /** Opens a backing file read-only (the image service knows the chain so far and refuses loops). */
    @FunctionalInterface
    public interface BackingOpener {
        BlockImage open(Path file, Optional<ImageFormat> format) throws IOException;
    }

    /** L2 cache bound: 4 MiB of tables, at least 16 tables. */
    private static final long L2_CACHE_BYTES = 4L << 20;

    private final Path path;
    private final FileChannel channel;
    /**
     * QEMU's lock bytes on the file (a qcow2 file also keeps resizers out: its metadata must not change under us);
     * null for an image opened over a test's channel.
     */
    private final ImageLocks locks;
    private final Qcow2Header header;
    private final boolean readOnly;
    private final BlockImage backing;
    private final int clusterBits;
    private final int clusterSize;
    private final int l2Bits;
    /** Guest-visible size: the header's, changed only by {@link #resize}. */
    private volatile long size;
    /** The active L1 table; replaced by a larger one when the VM state area needs it. */
    private long[] l1;
    private long l1TableOffset;
    private final MetadataCache<long[]> l2Cache;
    private final ReentrantLock lock = new ReentrantLock();
    private Refcounts refcounts;
    /** The last decompressed cluster (sequential reads of compressed images hit it 2+ times per cluster). */
    private long decompressedEntry;
    private ByteBuffer decompressed;
    /** Set once by {@link #open(Path, boolean, BackingOpener, CacheMode)} before the image is handed out. */
    private CacheMode cache = CacheMode.WRITEBACK;

    private Qcow2Image(Path path, FileChannel channel, ImageLocks locks, Qcow2Header header, boolean readOnly,
            BlockImage backing) throws IOException {
        this.path = path;
        this.channel = channel;
        this.locks = locks;
        this.header = header;
        this.readOnly = readOnly;
        this.backing = backing;
        this.clusterBits = header.clusterBits;
        this.clusterSize = 1 << clusterBits;
        this.l2Bits = clusterBits - 3;
        this.size = header.size;
        this.l2Cache = new MetadataCache<>((int) Math.max(16, L2_CACHE_BYTES / clusterSize));
        ByteBuffer t = ByteBuffer.allocate(header.l1Size * 8);
        this.l1TableOffset = header.l1TableOffset;
        FileIo.readFully(channel, path, l1TableOffset, t);
        this.l1 = new long[header.l1Size];
        for (int i = 0; i < l1.length; i++) {
            l1[i] = t.getLong(i * 8);
        }
    }

    /**
     * Opens {@code file}. The header is checked before anything is sized from it; a dirty or corrupt image is only
     * opened read-only; unknown auto-clear bits (e.g. the bitmaps') are cleared before the first write-open.
     */
    public static Qcow2Image open(Path file, boolean readOnly, BackingOpener opener) throws IOException {
        return open(file, readOnly, opener, CacheMode.WRITEBACK);
    }

    /**
     * Opens {@code file} in a cache mode. The qcow2 file always goes through the page cache here (its metadata
     * and data clusters alike), so the modes that bypass it ({@code none}, {@code directsync}) are refused rather
     * than silently not honoured; writethrough syncs after every write, unsafe skips flushes.
     */
    public static Qcow2Image open(Path file, boolean readOnly, BackingOpener opener, CacheMode cache)
            throws IOException {
        if (cache.direct() && !readOnly) {
            throw new IOException(file + ": cache=" + cache.qemuName() + " (O_DIRECT) is not supported for qcow2"
                    + " images, which go through the page cache; use cache=writeback or writethrough");
        }
        ImageLocks locks = ImageLocks.forImage(file, true, readOnly);
        Qcow2Image image;
        try {
            image = open(file, readOnly, opener, readOnly ? FileChannel.open(file, StandardOpenOption.READ)
                    : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE), locks);
        } catch (IOException | RuntimeException e) {
            locks.close();
            throw e;
        }
        image.cache = cache;
        return image;
    }

    /** Opens over a given channel (tests inject crashes through it, so no locks: a "crash" would leave them held). */
    static Qcow2Image open(Path file, boolean readOnly, BackingOpener opener, FileChannel ch) throws IOException {
        return open(file, readOnly, opener, ch, null);
    }

    private static Qcow2Image open(Path file, boolean readOnly, BackingOpener opener, FileChannel ch,
            ImageLocks locks) throws IOException {
        BlockImage backing = null;
        try {
            long fileSize = ch.size();
            ByteBuffer first = ByteBuffer.allocate((int) Math.min(fileSize, Qcow2Header.V3_HEADER_LENGTH));
            FileIo.readFully(ch, file, 0, first);
            first.flip();
            if (first.remaining() >= 24) {
                int bits = first.getInt(Qcow2Header.OFF_CLUSTER_BITS);
                if (bits >= Qcow2Header.MIN_CLUSTER_BITS && bits <= Qcow2Header.MAX_CLUSTER_BITS) {
                    first = ByteBuffer.allocate((int) Math.min(fileSize, 1L << bits));
                    FileIo.readFully(ch, file, 0, first);
                    first.flip();
                }
            }
            Qcow2Header header = Qcow2Header.parse(file, first, fileSize);
            if (!readOnly) {
                if (header.dirty()) {
                    throw new Qcow2FormatException(file + ": the dirty bit is set (lazy refcounts not written back);"
                            + " repair it with 'qemu-img check -r all' or open it read-only");
                }
                if (header.corrupt()) {
                    throw new Qcow2FormatException(file + ": the image is marked corrupt; open it read-only or"
                            + " repair it with 'qemu-img check -r all'");
                }
                if (header.version >= 3 && header.autoclearFeatures != 0) {
                    // we keep no bitmaps up to date: their consistency bit must go before we write
                    FileIo.writeFully(ch, file, Qcow2Header.OFF_AUTOCLEAR, ByteBuffer.allocate(8));
                }
            }
            if (header.backingFile.isPresent()) {
                Path name = Path.of(header.backingFile.get());
                Path resolved = name.isAbsolute() ? name : file.toAbsolutePath().getParent().resolve(name);
                Optional<ImageFormat> fmt = Optional.empty();
                if (header.backingFormat.isPresent()) {
                    try {
                        fmt = Optional.of(ImageFormat.parse(header.backingFormat.get()));
                    } catch (IllegalArgumentException e) {
                        throw new Qcow2FormatException(file + ": backing file format '" + header.backingFormat.get()
                                + "' is not supported (raw, qcow2)");
                    }
                }
                backing = opener.open(resolved, fmt);
            }
            return new Qcow2Image(file, ch, locks, header, readOnly, backing);
        } catch (IOException | RuntimeException e) {
            try {
                ch.close();
                if (backing != null) {
                    backing.close();
                }
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The header as it was read at open (the tables may have moved since). */
    public Qcow2Header header() {
        return header;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public ImageFormat format() {
        return ImageFormat.QCOW2;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public Optional<BlockImage> backing() {
        return Optional.ofNullable(backing);
    }

    // ---------------------------------------------------------------- mapping

    private long l2SpanBytes() {
        return 1L << (clusterBits + l2Bits);
    }

    private int l1Index(long guest) {
        return (int) (guest >>> (clusterBits + l2Bits));
    }

    private int l2Index(long guest) {
        return (int) ((guest >>> clusterBits) & ((1 << l2Bits) - 1));
    }

    /** The L2 table for L1 entry {@code i}, or null when unallocated; the table's offset is checked. */
    private long[] l2Table(int i) throws IOException {
        if (i >= l1.length) {
            return null; // past the L1 table (only the VM state area reaches there): unallocated
        }
        long off = L2Entry.offset(l1[i]);
        if (off == 0) {
            return null;
        }
        return l2TableAt(off, i);
    }

    private long[] l2TableAt(long off, int l1Index) throws IOException {
        long[] t = l2Cache.get(off);
        if (t != null) {
            return t;
        }
        long l1ByteOffset = l1TableOffset + l1Index * 8L;
        if ((off & (clusterSize - 1)) != 0) {
            throw new Qcow2FormatException(path + ": L2 table offset 0x" + Long.toHexString(off)
                    + " is not cluster-aligned (L1 entry " + l1Index + " at byte offset " + l1ByteOffset + ")");
        }
        long fileSize = channel.size();
        if (off + clusterSize > fileSize) {
            throw new Qcow2FormatException(path + ": L2 table at offset " + off + " lies past the end of the file ("
                    + fileSize + " bytes; L1 entry " + l1Index + " at byte offset " + l1ByteOffset + ")");
        }
        ByteBuffer b = ByteBuffer.allocate(clusterSize);
        FileIo.readFully(channel, path, off, b);
        t = new long[1 << l2Bits];
        for (int k = 0; k < t.length; k++) {
            t[k] = b.getLong(k * 8);
        }
        l2Cache.put(off, t);
        return t;
    }

    /** The L2 entry of the cluster holding {@code guest} (0 when its L2 table is unallocated). */
    private long entryAt(long guest) throws IOException {
        long[] t = l2Table(l1Index(guest));
        return t == null ? 0 : t[l2Index(guest)];
    }

    /** A standard cluster's host offset, checked for alignment (corrupt images name the entry). */
    private long hostOffset(long entry, long guest) throws IOException {
        long off = L2Entry.offset(entry);
        if ((off & (clusterSize - 1)) != 0) {
            throw new Qcow2FormatException(path + ": data cluster offset 0x" + Long.toHexString(off)
                    + " for guest offset " + guest + " is not cluster-aligned (L2 table at "
                    + L2Entry.offset(l1[l1Index(guest)]) + ", entry " + l2Index(guest) + ")");
        }
        return off;
    }

    Refcounts refcounts() throws IOException {
        if (refcounts == null) {
            refcounts = new Refcounts(path, channel, header, this::forgetCluster);
        }
        return refcounts;
    }

    /** A freed cluster may have been an L2 table: its cached copy must not outlive it. */
    private void forgetCluster(long hostOffset) {
        l2Cache.remove(hostOffset);
    }

    // ---------------------------------------------------------------- read

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        FileIo.checkRange(path, offset, dst.remaining(), size);
        readMapped(offset, dst);
    }

    /** Reads through the mapping at any offset the L1 table can describe (guest data and the VM state area). */
    private void readMapped(long offset, ByteBuffer dst) throws IOException {
        lock.lock();
        try {
            long guest = offset;
            while (dst.hasRemaining()) {
                int inCluster = (int) (guest & (clusterSize - 1));
                int n = Math.min(dst.remaining(), clusterSize - inCluster);
                long entry = entryAt(guest);
                ByteBuffer piece = dst.slice();
                switch (L2Entry.type(entry, header.version)) {
                    case NORMAL: {
                        // merge the following clusters while they are contiguous on the host too
                        long host = hostOffset(entry, guest);
                        long next = guest - inCluster + clusterSize;
                        while (n < dst.remaining() && l1Index(next) == l1Index(guest)) {
                            long e = entryAt(next);
                            if (L2Entry.type(e, header.version) != L2Entry.Type.NORMAL
                                    || hostOffset(e, next) != host + (next - guest + inCluster)) {
                                break;
                            }
                            n += Math.min(dst.remaining() - n, clusterSize);
                            next += clusterSize;
                        }
                        piece.limit(n);
                        // a data cluster past the end of the file reads as zeros, as QEMU's file driver reads it
                        FileIo.readOrZero(channel, path, host + inCluster, piece);
                        break;
                    }
                    case ZERO:
                        piece.limit(n);
                        FileIo.fillZero(piece);
                        break;
                    case UNALLOCATED:
                        piece.limit(n);
                        readBelow(guest, piece);
                        break;
                    case COMPRESSED: {
                        ByteBuffer c = decompress(entry, guest - inCluster);
                        piece.limit(n);
                        piece.put(c.duplicate().position(inCluster).limit(inCluster + n));
                        break;
                    }
                    default:
                        throw new IllegalStateException();
                }
                dst.position(dst.position() + n);
                guest += n;
            }
        } finally {
            lock.unlock();
        }
    }

    /** What lies under an unallocated cluster: the backing file where it reaches, zeros past its end. */
    private void readBelow(long guest, ByteBuffer dst) throws IOException {
        if (backing != null && guest < backing.size()) {
            int n = (int) Math.min(dst.remaining(), backing.size() - guest);
            ByteBuffer part = dst.slice().limit(n);
            backing.read(guest, part);
            dst.position(dst.position() + n);
        }
        FileIo.fillZero(dst);
    }

    private ByteBuffer decompress(long entry, long guestCluster) throws IOException {
        if (decompressed != null && decompressedEntry == entry) {
            return decompressed;
        }
        ByteBuffer out = ByteBuffer.allocate(clusterSize);
        CompressedCluster.of(entry, clusterBits).read(channel, path, channel.size(), guestCluster, out);
        out.clear();
        decompressed = out;
        decompressedEntry = entry;
        return out;
    }

    /** The whole guest cluster at {@code guestCluster} as it reads now (for a partial copy-on-write). */
    private ByteBuffer currentCluster(long guestCluster, long entry) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(clusterSize);
        switch (L2Entry.type(entry, header.version)) {
            case NORMAL:
                FileIo.readOrZero(channel, path, hostOffset(entry, guestCluster), buf);
                break;
            case COMPRESSED:
                buf.put(decompress(entry, guestCluster).duplicate());
                break;
            case UNALLOCATED:
                readBelow(guestCluster, buf);
                break;
            case ZERO:
                break;
            default:
                throw new IllegalStateException();
        }
        buf.clear();
        return buf;
    }

    // ---------------------------------------------------------------- write

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkWritable();
        FileIo.checkRange(path, offset, src.remaining(), size);
        writeMapped(offset, src);
        FileIo.syncAfterWrite(channel, path, cache);
    }


    @Override
    public CacheMode cacheMode() {
        return cache;
    }

    /** Writes through the mapping at any offset (guest data and the VM state area, growing the L1 table). */
    private void writeMapped(long offset, ByteBuffer src) throws IOException {
        lock.lock();
        try {
            long guest = offset;
            while (src.hasRemaining()) {
                long spanEnd = (guest | (l2SpanBytes() - 1)) + 1;
                int n = (int) Math.min(src.remaining(), spanEnd - guest);
                ByteBuffer part = src.slice().limit(n);
                writeInOneL2(guest, part);
                src.position(src.position() + n);
                guest += n;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes {@code data} at {@code guest}, all of it mapped by one L2 table: clusters owned alone (COPIED) are
     * written in place; all others (unallocated, zero, compressed, shared) get new clusters allocated in one run,
     * with the rest of a partly written cluster copied from what it read before.
     */
    private void writeInOneL2(long guest, ByteBuffer data) throws IOException {
        int l1i = l1Index(guest);
        long[] l2 = writableL2(l1i);
        long tableOffset = L2Entry.offset(l1[l1i]);
        int first = l2Index(guest);
        int last = l2Index(guest + data.remaining() - 1);
        int count = last - first + 1;
        long[] host = new long[count];
        long[] replaced = new long[count];
        boolean[] fresh = new boolean[count];
        int needed = 0;
        for (int i = 0; i < count; i++) {
            long e = l2[first + i];
            long g = ((guest >>> clusterBits) + i) << clusterBits;
            if (L2Entry.type(e, header.version) == L2Entry.Type.NORMAL && (e & L2Entry.COPIED) != 0) {
                host[i] = hostOffset(e, g);
            } else {
                fresh[i] = true;
                replaced[i] = e;
                needed++;
            }
        }
        if (needed > 0) {
            long next = refcounts().allocate(needed);
            for (int i = 0; i < count; i++) {
                if (fresh[i]) {
                    host[i] = next;
                    next += clusterSize;
                }
            }
        }
        // data first; runs of contiguous host clusters fed straight from the caller's buffer go in one write
        long runHost = -1;
        int runStart = 0;
        int runLen = 0;
        long g = guest;
        while (data.hasRemaining()) {
            int i = (int) ((g >>> clusterBits) - (guest >>> clusterBits));
            int inCluster = (int) (g & (clusterSize - 1));
            int n = Math.min(data.remaining(), clusterSize - inCluster);
            boolean partialFresh = fresh[i] && n < clusterSize;
            if (!partialFresh && runHost >= 0 && host[i] + inCluster == runHost + runLen) {
                runLen += n;
            } else {
                if (runHost >= 0) {
                    FileIo.writeFully(channel, path, runHost, data.duplicate().position(runStart).limit(runStart + runLen));
                    runHost = -1;
                }
                if (partialFresh) {
                    long gc = g - inCluster;
                    ByteBuffer whole = currentCluster(gc, replaced[i]);
                    whole.position(inCluster);
                    whole.put(data.duplicate().limit(data.position() + n));
                    whole.clear();
                    FileIo.writeFully(channel, path, host[i], whole);
                } else {
                    runHost = host[i] + inCluster;
                    runStart = data.position();
                    runLen = n;
                }
            }
            data.position(data.position() + n);
            g += n;
        }
        if (runHost >= 0) {
            FileIo.writeFully(channel, path, runHost, data.duplicate().position(runStart).limit(runStart + runLen));
        }
        if (needed == 0) {
            return;
        }
        // then the L2 entries (the refcounts are already on disk), then the replaced clusters are let go
        int lo = Integer.MAX_VALUE;
        int hi = -1;
        for (int i = 0; i < count; i++) {
            if (fresh[i]) {
                l2[first + i] = host[i] | L2Entry.COPIED;
                lo = Math.min(lo, first + i);
                hi = first + i;
            }
        }
        writeL2Entries(tableOffset, l2, lo, hi);
        for (int i = 0; i < count; i++) {
            if (fresh[i]) {
                release(replaced[i]);
            }
        }
    }

    /**
     * The L2 table of L1 entry {@code l1i}, ready to be changed in place: a new zeroed table if there is none, a
     * copy if the table is shared with a snapshot (L1 entry without COPIED), whose reference is dropped after the
     * L1 entry points at the copy. The data clusters a copied table names stay shared (their refcounts count the
     * tables that name them) and so are copied on their own first write.
     */
    private long[] writableL2(int l1i) throws IOException {
        if (l1i >= l1.length) {
            growL1(l1i + 1);
        }
        long e = l1[l1i];
        long old = L2Entry.offset(e);
        if (old != 0 && (e & L2Entry.COPIED) != 0) {
            return l2TableAt(old, l1i);
        }
        long[] table = old == 0 ? new long[1 << l2Bits] : l2TableAt(old, l1i).clone();
        long fresh = refcounts().allocate(1);
        ByteBuffer b = ByteBuffer.allocate(clusterSize);
        for (int k = 0; k < table.length; k++) {
            b.putLong(k * 8, table[k]);
        }
        FileIo.writeFully(channel, path, fresh, b);
        l2Cache.put(fresh, table);
        setL1Entry(l1i, fresh | L2Entry.COPIED);
        if (old != 0) {
            refcounts().update(old >>> clusterBits, 1, -1);
        }
        return table;
    }

    /**
     * Moves the active L1 table to a larger place (QEMU's qcow2_grow_l1_table): the new table is written and synced,
     * then the header's l1_size and l1_table_offset (adjacent, one 12-byte write) switched and synced, then the old
     * table's clusters freed; a crash in between leaks them at worst.
     */
    void growL1(int minEntries) throws IOException {
        long maxEntries = Qcow2Header.MAX_L1_BYTES / 8;
        if (minEntries > maxEntries) {
            throw new IOException(path + ": offset needs an L1 table of " + minEntries + " entries, more than "
                    + (Qcow2Header.MAX_L1_BYTES >> 20) + " MiB");
        }
        int entries = (int) Math.min(maxEntries, Math.max(minEntries, (long) l1.length * 3 / 2));
        int clusters = (int) (((long) entries * 8 + clusterSize - 1) >>> clusterBits);
        entries = (int) Math.min(maxEntries, ((long) clusters << clusterBits) / 8);
        long fresh = refcounts().allocate(clusters);
        long[] table = java.util.Arrays.copyOf(l1, entries);
        ByteBuffer b = ByteBuffer.allocate(clusters << clusterBits);
        for (int k = 0; k < table.length; k++) {
            b.putLong(k * 8, table[k]);
        }
        FileIo.writeFully(channel, path, fresh, b);
        channel.force(true);
        ByteBuffer h = ByteBuffer.allocate(12).putInt(0, entries).putLong(4, fresh);
        FileIo.writeFully(channel, path, Qcow2Header.OFF_L1_SIZE, h);
        channel.force(true);
        long oldOffset = l1TableOffset;
        int oldClusters = (int) (((long) l1.length * 8 + clusterSize - 1) >>> clusterBits);
        l1 = table;
        l1TableOffset = fresh;
        if (oldClusters > 0) {
            refcounts().update(oldOffset >>> clusterBits, oldClusters, -1);
        }
    }

    /**
     * Changes the guest-visible size, as QEMU 7.2's qcow2_co_truncate does for {@code block_resize} and
     * {@code qemu-img resize [--shrink]}. Growing: what the active mapping held past the old end (a VM state area
     * never discarded) is dropped and the rest of the old last cluster zeroed, so that the new part reads as zeros;
     * the L1 table grows to cover it; where a backing file is longer than the old size the new part gets zero
     * clusters so that the backing's bytes do not show through. Shrinking: every whole cluster past the new end is
     * dropped from the active mapping (its references released; the L1 table keeps its length, as QEMU's does).
     * The header's size is written last, after everything it depends on is in place. Internal snapshots keep their
     * own tables and size (qcow2 v3).
     */
    @Override
    public void resize(long newSize) throws IOException {
        checkWritable();
        if (newSize < 0 || newSize % 512 != 0) {
            throw new IOException(path + ": new size " + newSize + " is not a non-negative multiple of 512");
        }
        lock.lock();
        try {
            long old = size;
            if (newSize == old) {
                return;
            }
            long maxEntries = Qcow2Header.MAX_L1_BYTES / 8;
            long entries = Qcow2Header.l1EntriesFor(newSize, clusterBits);
            if (entries > maxEntries) {
                throw new IOException(path + ": a size of " + newSize + " bytes needs an L1 table of " + entries
                        + " entries, more than " + (Qcow2Header.MAX_L1_BYTES >> 20) + " MiB");
            }
            // whole clusters past the smaller end, up to what the L1 table maps, are dropped
            long from = (Math.min(old, newSize) + clusterSize - 1) & -(long) clusterSize;
            long to = newSize < old ? (long) l1.length << (clusterBits + l2Bits)
                    : Math.min(newSize, (long) l1.length << (clusterBits + l2Bits));
            for (long guest = from; guest < to; ) {
                long spanEnd = Math.min((guest | (l2SpanBytes() - 1)) + 1, to);
                discardClusters(guest, (spanEnd - guest) >>> clusterBits);
                guest = spanEnd;
            }
            if (entries > l1.length) {
                growL1((int) entries);
            }
            size = newSize;
            try {
                if (newSize > old) {
                    // the rest of the old last cluster: an image shrunk by QEMU keeps the bytes it had there
                    long tail = Math.min(newSize, from) - old;
                    if (tail > 0) {
                        writeZeroes(old, tail);
                    }
                    long backingSize = backing == null ? 0 : backing.size();
                    if (backingSize > from) {
                        writeZeroes(from, Math.min(newSize, backingSize) - from);
                    }
                }
                channel.force(true);
                FileIo.writeFully(channel, path, Qcow2Header.OFF_SIZE, ByteBuffer.allocate(8).putLong(0, newSize));
                channel.force(true);
            } catch (IOException | RuntimeException e) {
                size = old;
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- VM state area

    /**
     * Where the VM state of a snapshot lives in this image's address space (QEMU's qcow2_vm_state_offset): the first
     * L1 entry that maps no guest cluster, so past the guest-visible end.
     */
    public long vmStateOffset() {
        return Qcow2Header.l1EntriesFor(size, clusterBits) << (clusterBits + l2Bits);
    }

    /** Reads VM state bytes at {@code pos} of the VM state area (never written: zeros). */
    public void readVmState(long pos, ByteBuffer dst) throws IOException {
        checkVmStateRange(pos, dst.remaining());
        readMapped(vmStateOffset() + pos, dst);
    }

    /** Writes VM state bytes at {@code pos} of the VM state area, growing the L1 table as needed. */
    public void writeVmState(long pos, ByteBuffer src) throws IOException {
        checkWritable();
        checkVmStateRange(pos, src.remaining());
        writeMapped(vmStateOffset() + pos, src);
        FileIo.syncAfterWrite(channel, path, cache);
    }

    /**
     * Drops the first {@code length} bytes of VM state from the active mapping (what QEMU's qcow2_snapshot_create does
     * with qcow2_cluster_discard once a snapshot's L1 copy holds them): the clusters become unallocated here and
     * their references are released (written entries first, refcounts after). The L1 table keeps its size.
     */
    public void discardVmState(long length) throws IOException {
        checkWritable();
        checkVmStateRange(0, length);
        lock.lock();
        try {
            long guest = vmStateOffset();
            long end = guest + ((length + clusterSize - 1) & -(long) clusterSize);
            while (guest < end) {
                long spanEnd = Math.min((guest | (l2SpanBytes() - 1)) + 1, end);
                discardClusters(guest, (spanEnd - guest) >>> clusterBits);
                guest = spanEnd;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Makes {@code count} clusters from {@code guest} (one L2 table) unallocated, releasing what they held. */
    private void discardClusters(long guest, long count) throws IOException {
        int l1i = l1Index(guest);
        int first = l2Index(guest);
        long[] current = l2Table(l1i);
        if (current == null) {
            return;
        }
        boolean any = false;
        for (int i = 0; i < count && !any; i++) {
            any = current[first + i] != 0;
        }
        if (!any) {
            return;
        }
        long[] l2 = writableL2(l1i);
        long tableOffset = L2Entry.offset(l1[l1i]);
        long[] replaced = new long[(int) count];
        int lo = Integer.MAX_VALUE;
        int hi = -1;
        for (int i = 0; i < count; i++) {
            if (l2[first + i] != 0) {
                replaced[i] = l2[first + i];
                l2[first + i] = 0;
                lo = Math.min(lo, first + i);
                hi = first + i;
            }
        }
        writeL2Entries(tableOffset, l2, lo, hi);
        for (long e : replaced) {
            release(e);
        }
    }

    private void checkVmStateRange(long pos, long length) throws IOException {
        long limit = (Qcow2Header.MAX_L1_BYTES / 8) << (clusterBits + l2Bits);
        if (pos < 0 || length < 0 || pos > limit - vmStateOffset() - length) {
            throw new IOException(path + ": VM state request [" + pos + ", +" + length
                    + ") outside what an L1 table can map");
        }
    }

    private void setL1Entry(int i, long value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).putLong(0, value);
        FileIo.writeFully(channel, path, l1TableOffset + i * 8L, b);
        l1[i] = value;
    }

    private void writeL2Entries(long tableOffset, long[] table, int lo, int hi) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((hi - lo + 1) * 8);
        for (int k = lo; k <= hi; k++) {
            b.putLong(table[k]);
        }
        b.flip();
        try {
            FileIo.writeFully(channel, path, tableOffset + lo * 8L, b);
        } catch (IOException e) {
            // the cached table already holds the new entries: drop it so reads see what the file says
            l2Cache.remove(tableOffset);
            throw e;
        }
    }

    /** Drops this L2 entry's reference to its host cluster(s), after the entry was overwritten on disk. */
    private void release(long entry) throws IOException {
        switch (L2Entry.type(entry, header.version)) {
            case NORMAL:
            case ZERO: {
                long off = L2Entry.offset(entry);
                if (off != 0) {
                    refcounts().update(off >>> clusterBits, 1, -1);
                }
                break;
            }
            case COMPRESSED: {
                CompressedCluster c = CompressedCluster.of(entry, clusterBits);
                long firstCluster = c.firstCluster(clusterBits);
                refcounts().update(firstCluster, c.lastCluster(clusterBits) - firstCluster + 1, -1);
                if (decompressedEntry == entry) {
                    decompressed = null;
                }
                break;
            }
            default:
                break;
        }
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        checkWritable();
        FileIo.checkRange(path, offset, length, size);
        lock.lock();
        try {
            long guest = offset;
            long end = offset + length;
            while (guest < end) {
                int inCluster = (int) (guest & (clusterSize - 1));
                long clusterEnd = guest - inCluster + clusterSize;
                // the image's last cluster may be short: reaching the image's end covers it whole
                if (inCluster != 0 || end < Math.min(clusterEnd, size)) {
                    long partEnd = Math.min(end, clusterEnd);
                    if (!readsAsZero(entryAt(guest))) { // a zero cluster stays one
                        write(guest, ByteBuffer.allocate((int) (partEnd - guest)));
                    }
                    guest = partEnd;
                    continue;
                }
                long spanEnd = Math.min((guest | (l2SpanBytes() - 1)) + 1, end);
                long wholeEnd = guest + (((spanEnd - guest) >>> clusterBits) << clusterBits);
                if (spanEnd == size) {
                    wholeEnd = spanEnd;
                }
                zeroClusters(guest, (wholeEnd - guest + clusterSize - 1) >>> clusterBits);
                guest = wholeEnd;
            }
        } finally {
            lock.unlock();
        }
        FileIo.syncAfterWrite(channel, path, cache);
    }

    /**
     * Makes {@code count} whole clusters from {@code guest} (one L2 table) read as zeros: version 3 sets the zero
     * flag and lets the old clusters go; clusters that already read as zeros (zero clusters, unallocated ones
     * without a backing file) are left alone; version 2 has no zero flag and writes zeros.
     */
    private void zeroClusters(long guest, long count) throws IOException {
        int l1i = l1Index(guest);
        int first = l2Index(guest);
        long[] current = l2Table(l1i);
        boolean any = false;
        for (int i = 0; i < count && !any; i++) {
            any = !readsAsZero(current == null ? 0 : current[first + i]);
        }
        if (!any) {
            return;
        }
        if (header.version < 3) {
            ByteBuffer zeros = ByteBuffer.allocate(clusterSize);
            for (int i = 0; i < count; i++) {
                long g = guest + ((long) i << clusterBits);
                zeros.clear().limit((int) Math.min(clusterSize, size - g));
                writeInOneL2(g, zeros);
            }
            return;
        }
        long[] l2 = writableL2(l1i);
        long tableOffset = L2Entry.offset(l1[l1i]);
        long[] replaced = new long[(int) count];
        int lo = Integer.MAX_VALUE;
        int hi = -1;
        for (int i = 0; i < count; i++) {
            long e = l2[first + i];
            if (!readsAsZero(e)) {
                replaced[i] = e;
                l2[first + i] = L2Entry.ZERO;
                lo = Math.min(lo, first + i);
                hi = first + i;
            }
        }
        writeL2Entries(tableOffset, l2, lo, hi);
        for (long e : replaced) {
            release(e);
        }
    }

    private boolean readsAsZero(long entry) {
        L2Entry.Type t = L2Entry.type(entry, header.version);
        return t == L2Entry.Type.ZERO || (t == L2Entry.Type.UNALLOCATED && backing == null);
    }

    // ---------------------------------------------------------------- status

    private enum Kind {
        DATA, ZERO, BELOW
    }

    private Kind kind(long entry) {
        switch (L2Entry.type(entry, header.version)) {
            case NORMAL:
            case COMPRESSED:
                return Kind.DATA;
            case ZERO:
                return Kind.ZERO;
            default:
                return Kind.BELOW;
        }
    }

    @Override
    public BlockStatus blockStatus(long offset, long maxLength) throws IOException {
        if (offset < 0 || offset >= size || maxLength <= 0) {
            throw new IOException(path + ": block status at offset " + offset + " (+" + maxLength
                    + ") outside the image (size " + size + ")");
        }
        long end = Math.min(size, offset + Math.min(maxLength, Long.MAX_VALUE - offset));
        Kind k;
        long at;
        lock.lock();
        try {
            k = kind(entryAt(offset));
            at = (offset | (clusterSize - 1)) + 1;
            while (at < end) {
                if (L2Entry.offset(l1[l1Index(at)]) == 0 && k == Kind.BELOW) {
                    at = (at | (l2SpanBytes() - 1)) + 1; // a whole unallocated L2 table
                    continue;
                }
                if (kind(entryAt(at)) != k) {
                    break;
                }
                at += clusterSize;
            }
        } finally {
            lock.unlock();
        }
        long length = Math.min(at, end) - offset;
        switch (k) {
            case DATA:
                return new BlockStatus(offset, length, true, false, 0, true);
            case ZERO:
                return new BlockStatus(offset, length, false, true, 0, true);
            default:
                if (backing == null) {
                    return new BlockStatus(offset, length, false, true, 1, false);
                }
                if (offset >= backing.size()) {
                    return new BlockStatus(offset, length, false, true, chainLength(), false);
                }
                BlockStatus below = backing.blockStatus(offset, Math.min(length, backing.size() - offset));
                return new BlockStatus(offset, below.length(), below.data(), below.zero(), below.depth() + 1, false);
        }
    }

    /** Images in the chain from this one down. */
    private int chainLength() {
        int n = 1;
        for (Optional<BlockImage> b = backing(); b.isPresent(); b = b.get().backing()) {
            n++;
        }
        return n;
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    public void flush() throws IOException {
        if (readOnly || cache.ignoreFlush()) {
            return;
        }
        lock.lock();
        try {
            channel.force(true);
        } catch (IOException e) {
            throw new IOException(path + ": flush failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            try {
                try {
                    channel.close();
                } finally {
                    if (locks != null) {
                        locks.close();
                    }
                }
            } finally {
                if (backing != null) {
                    backing.close();
                }
            }
        }
    }

    private void checkWritable() throws IOException {
        if (readOnly) {
            throw new IOException(path + ": image is opened read-only");
        }
    }

    // ---------------------------------------------------------------- internal snapshots (Qcow2Snapshots, issue 11)

    private Qcow2Snapshots snapshots;

    /** The snapshot table, read on first use. */
    @Override
    public Optional<org.savevm.api.block.InternalSnapshots> internalSnapshots() {
        lock.lock();
        try {
            if (snapshots == null) {
                snapshots = new Qcow2Snapshots(this, path, channel, header);
            }
            return Optional.of(snapshots);
        } finally {
            lock.unlock();
        }
    }

    ReentrantLock lock() {
        return lock;
    }

    void checkWritableForSnapshots() throws IOException {
        checkWritable();
    }

    /** A copy of the active L1 table (as on disk). */
    long[] activeL1() {
        return l1.clone();
    }

    long activeL1Offset() {
        return l1TableOffset;
    }

    /**
     * Re-reads the active L1 table ({@code size} entries at {@code offset}) after Qcow2Snapshots rewrote it or the
     * tables and flags below it; drops every cached L2 table. The caller holds the lock.
     */
    void reloadL1(long offset, int size) throws IOException {
        ByteBuffer t = ByteBuffer.allocate(size * 8);
        FileIo.readFully(channel, path, offset, t);
        long[] table = new long[size];
        for (int i = 0; i < size; i++) {
            table[i] = t.getLong(i * 8);
        }
        l1 = table;
        l1TableOffset = offset;
        l2Cache.clear();
        decompressed = null;
    }

    @Override
    public String toString() {
        return "qcow2 image " + path;
    }
}
