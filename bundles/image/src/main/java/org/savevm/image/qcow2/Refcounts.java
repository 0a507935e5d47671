package org.savevm.image.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import org.savevm.image.internal.FileIo;

/**
 * qcow2's refcounts (docs/interop/qcow2.txt "Host cluster management"): the refcount table, a cache of refcount
 * blocks, and the cluster allocator.
 *
 * <p>Every change is written through at once, in an order that can only leak clusters when the process dies half
 * way: a cluster's refcount is raised on disk before anything that points at it is written, and lowered only after
 * the last pointer to it is gone. A new refcount block is written before the table entry that names it; a grown
 * refcount table is complete and synced before the header switches to it, and the old one is freed after.
 * Not thread-safe: the image's lock guards it.
 */
public final class Refcounts implements RefcountUpdater {
    private static final int BLOCK_CACHE = 32;

    private final Path file;
    private final FileChannel channel;
    private final int clusterBits;
    private final int clusterSize;
    private final int refcountBits;
    /** Refcount entries per block (log2). */
    private final int blockEntriesBits;
    private final long maxRefcount;
    private long tableOffset;
    private long[] table;
    private final MetadataCache<ByteBuffer> blocks = new MetadataCache<>(BLOCK_CACHE);
    /** Where the search for free clusters starts (lowered when a cluster is freed). */
    private long freeHint;
    /** Told about every freed cluster (the image drops cached metadata of it). */
    private final java.util.function.LongConsumer onFree;

    Refcounts(Path file, FileChannel channel, Qcow2Header header, java.util.function.LongConsumer onFree)
            throws IOException {
        this.file = file;
        this.channel = channel;
        this.clusterBits = header.clusterBits;
        this.clusterSize = 1 << clusterBits;
        this.refcountBits = 1 << header.refcountOrder;
        this.blockEntriesBits = clusterBits + 3 - header.refcountOrder;
        this.maxRefcount = refcountBits == 64 ? Long.MAX_VALUE : (1L << refcountBits) - 1;
        this.onFree = onFree;
        this.tableOffset = header.refcountTableOffset;
        int entries = (int) ((long) header.refcountTableClusters * clusterSize / 8);
        ByteBuffer t = ByteBuffer.allocate(entries * 8);
        FileIo.readFully(channel, file, tableOffset, t);
        table = new long[entries];
        for (int i = 0; i < entries; i++) {
            table[i] = t.getLong(i * 8);
            if ((table[i] & 0x1ff) != 0 || table[i] < 0 || (table[i] & (clusterSize - 1)) != 0) {
                throw new Qcow2FormatException(file + ": refcount table entry " + i + " = 0x"
                        + Long.toHexString(table[i]) + " is not cluster-aligned (byte offset "
                        + (tableOffset + i * 8L) + ")");
            }
        }
    }

    public long tableOffset() {
        return tableOffset;
    }

    public int tableClusters() {
        return (int) ((long) table.length * 8 / clusterSize);
    }

    /** The refcount of the host cluster with index {@code cluster}. */
    public long get(long cluster) throws IOException {
        long bi = cluster >>> blockEntriesBits;
        if (bi >= table.length || table[(int) bi] == 0) {
            return 0;
        }
        return entry(block((int) bi), (int) (cluster & ((1L << blockEntriesBits) - 1)));
    }

    /** Adds {@code delta} to the refcount of {@code count} clusters from {@code cluster}; the blocks must exist. */
    @Override
    public void update(long cluster, long count, long delta) throws IOException {
        long c = cluster;
        long end = cluster + count;
        while (c < end) {
            long bi = c >>> blockEntriesBits;
            long blockEnd = Math.min(end, (bi + 1) << blockEntriesBits);
            if (bi >= table.length || table[(int) bi] == 0) {
                if (delta < 0) {
                    throw new Qcow2FormatException(file + ": freeing host cluster " + c + " (offset "
                            + (c << clusterBits) + ") that has no refcount block");
                }
                ensureBlock(bi);
            }
            ByteBuffer block = block((int) bi);
            int first = (int) (c & ((1L << blockEntriesBits) - 1));
            int last = (int) ((blockEnd - 1) & ((1L << blockEntriesBits) - 1));
            for (int i = first; i <= last; i++) {
                long old = entry(block, i);
                long now = old + delta;
                if (now < 0 || now > maxRefcount || (delta > 0 && now < old)) {
                    throw new Qcow2FormatException(file + ": refcount of host cluster "
                            + ((bi << blockEntriesBits) + i) + " would become " + now + " (was " + old + ", max "
                            + maxRefcount + ")");
                }
                setEntry(block, i, now);
                if (now == 0) {
                    long freed = (bi << blockEntriesBits) + i;
                    freeHint = Math.min(freeHint, freed);
                    onFree.accept(freed << clusterBits);
                }
            }
            try {
                writeEntries((int) bi, block, first, last);
            } catch (IOException e) {
                blocks.remove(table[(int) bi]); // the cached block is ahead of the file: reload it next time
                throw e;
            }
            c = blockEnd;
        }
    }

    /**
     * Allocates {@code n} contiguous free clusters with refcount 1 (written) and returns the host offset of the
     * first. Refcount blocks and a larger refcount table are allocated as needed, with their own refcounts.
     */
    public long allocate(int n) throws IOException {
        if (n <= 0) {
            throw new IllegalArgumentException("allocate " + n);
        }
        while (true) {
            long start = findFree(n, freeHint);
            boolean placedBlocks = false;
            for (long bi = start >>> blockEntriesBits; bi <= (start + n - 1) >>> blockEntriesBits; bi++) {
                if (bi >= table.length || table[(int) bi] == 0) {
                    ensureBlock(bi);
                    placedBlocks = true;
                }
            }
            if (placedBlocks && !isFree(start, n)) {
                continue; // a new refcount block took part of the run: search again
            }
            update(start, n, 1);
            // as QEMU's free_cluster_index: the next search starts after this run, even if it skipped a hole too
            // small for it; freeing a cluster lowers the hint again. Searching from the lowest free cluster every
            // time would rescan the whole image per allocation once such a hole exists.
            freeHint = start + n;
            return start << clusterBits;
        }
    }

    /** First run of {@code n} clusters with refcount 0 at or after {@code from}. */
    private long findFree(long n, long from) throws IOException {
        long c = Math.max(from, 1);
        long run = 0;
        while (run < n) {
            long cl = c + run;
            long bi = cl >>> blockEntriesBits;
            if (bi >= table.length || table[(int) bi] == 0) {
                // a whole range without a refcount block is free
                long rangeEnd = (bi + 1) << blockEntriesBits;
                run = Math.min(n, rangeEnd - c);
                if (run < n) {
                    continue;
                }
                break;
            }
            if (get(cl) == 0) {
                run++;
            } else {
                c = cl + 1;
                run = 0;
            }
        }
        return c;
    }

    private boolean isFree(long start, long n) throws IOException {
        for (long c = start; c < start + n; c++) {
            if (get(c) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Makes sure refcount block {@code bi} exists, growing the table first when it is too small. */
    private void ensureBlock(long bi) throws IOException {
        if (bi >= table.length) {
            growTable(bi);
        }
        while (table[(int) bi] == 0) {
            long f = findFree(1, freeHint);
            long fbi = f >>> blockEntriesBits;
            ByteBuffer fresh = ByteBuffer.allocate(clusterSize);
            if (fbi == bi) {
                // self-describing: the block counts its own cluster
                setEntry(fresh, (int) (f & ((1L << blockEntriesBits) - 1)), 1);
                FileIo.writeFully(channel, file, f << clusterBits, fresh.duplicate());
            } else {
                if (fbi >= table.length || table[(int) fbi] == 0) {
                    ensureBlock(fbi); // f's own range first; f may be taken by it, so look again
                    continue;
                }
                update(f, 1, 1);
                FileIo.writeFully(channel, file, f << clusterBits, fresh.duplicate());
            }
            blocks.put(f << clusterBits, fresh);
            setTableEntry((int) bi, f << clusterBits);
        }
    }

    private void setTableEntry(int bi, long blockOffset) throws IOException {
        ByteBuffer e = ByteBuffer.allocate(8).putLong(0, blockOffset);
        FileIo.writeFully(channel, file, tableOffset + bi * 8L, e);
        table[bi] = blockOffset;
    }

    /**
     * Moves the refcount table to a larger place at the first free run of clusters: the new table and any refcount
     * blocks its own clusters need are written and synced, then the header points at it, then the old table's
     * clusters are freed (a crash in between leaks them at worst).
     */
    private void growTable(long neededIndex) throws IOException {
        long entriesPerCluster = clusterSize / 8;
        long wantEntries = Math.max(neededIndex + 1, (long) table.length * 3 / 2);
        int tClusters = (int) ((wantEntries + entriesPerCluster - 1) / entriesPerCluster);
        while (true) {
            if ((long) tClusters * clusterSize > Qcow2Header.MAX_REFTABLE_BYTES) {
                throw new IOException(file + ": the refcount table would exceed "
                        + (Qcow2Header.MAX_REFTABLE_BYTES >> 20) + " MiB (image too large for its cluster size)");
            }
            long newEntries = tClusters * entriesPerCluster;
            // the table and the new blocks go in one free run; find how many blocks that run needs
            int k = 0;
            long start;
            List<Long> missing;
            while (true) {
                start = findFree(tClusters + k, freeHint);
                missing = missingBlocks(start, tClusters + k);
                if (missing.size() <= k) {
                    break;
                }
                k = missing.size();
            }
            long maxIndex = Math.max(neededIndex, missing.isEmpty() ? 0 : missing.get(missing.size() - 1));
            if (maxIndex >= newEntries) {
                tClusters++;
                continue;
            }
            long[] newTable = java.util.Arrays.copyOf(table, (int) newEntries);
            List<ByteBuffer> newBlocks = new ArrayList<>();
            long blocksStart = start + tClusters;
            for (int j = 0; j < missing.size(); j++) {
                newTable[(int) (long) missing.get(j)] = (blocksStart + j) << clusterBits;
                newBlocks.add(ByteBuffer.allocate(clusterSize));
            }
            // refcount 1 for the table's and the new blocks' clusters: in the new blocks, or in existing ones
            long used = tClusters + missing.size();
            for (long c = start; c < start + used; c++) {
                long bi = c >>> blockEntriesBits;
                int idx = missing.indexOf(bi);
                if (idx >= 0) {
                    setEntry(newBlocks.get(idx), (int) (c & ((1L << blockEntriesBits) - 1)), 1);
                } else {
                    update(c, 1, 1);
                }
            }
            for (int j = 0; j < newBlocks.size(); j++) {
                FileIo.writeFully(channel, file, (blocksStart + j) << clusterBits, newBlocks.get(j).duplicate());
            }
            ByteBuffer t = ByteBuffer.allocate((int) (newEntries * 8));
            for (int i = 0; i < newEntries; i++) {
                t.putLong(i * 8, newTable[i]);
            }
            FileIo.writeFully(channel, file, start << clusterBits, t);
            channel.force(true);
            ByteBuffer h = ByteBuffer.allocate(12).putLong(0, start << clusterBits).putInt(8, tClusters);
            FileIo.writeFully(channel, file, Qcow2Header.OFF_REFCOUNT_TABLE_OFFSET, h);
            channel.force(true);
            long oldOffset = tableOffset;
            int oldClusters = tableClusters();
            tableOffset = start << clusterBits;
            table = newTable;
            for (int j = 0; j < newBlocks.size(); j++) {
                blocks.put((blocksStart + j) << clusterBits, newBlocks.get(j));
            }
            update(oldOffset >>> clusterBits, oldClusters, -1);
            return;
        }
    }

    /** Starts a set of refcount changes that reaches the file only with one header write (see {@link Shadow}). */
    Shadow shadow() throws IOException {
        return new Shadow();
    }

    /**
     * Refcount changes kept off the live structures (a shadow copy): every refcount block they touch is copied to a
     * new cluster, the refcount table too, and new clusters are taken only past everything the live refcounts or the
     * file use, never where a cluster was freed in the shadow. Until the caller's header write names the new table,
     * the file's refcounts, tables and flags are exactly the old ones (the new clusters are unreferenced with refcount
     * 0, so a kill leaks nothing); after it, all changes are there at once. That is how Qcow2Snapshots changes the
     * active L1 table's COPIED flags and the refcounts they describe in one step ({@code qemu-img check} compares
     * them, and no write order of two separate clusters could keep them equal at every instant).
     */
    final class Shadow implements RefcountUpdater {
        private long[] shadowTable = table.clone();
        private final java.util.Map<Integer, ByteBuffer> copies = new java.util.HashMap<>();
        /** The next cluster to hand out; it and everything after it is free in the live and the shadow refcounts. */
        private long next;
        private long lowestFreed = Long.MAX_VALUE;
        private final List<Long> freed = new ArrayList<>();
        private long newTableOffset;
        private int newTableClusters;

        private Shadow() throws IOException {
            long end = (channel.size() + clusterSize - 1) >>> clusterBits;
            for (int bi = table.length - 1; bi >= 0; bi--) {
                if (table[bi] == 0) {
                    continue;
                }
                ByteBuffer b = block(bi);
                int n = 1 << blockEntriesBits;
                for (int i = n - 1; i >= 0; i--) {
                    if (entry(b, i) != 0) {
                        end = Math.max(end, ((long) bi << blockEntriesBits) + i + 1);
                        break;
                    }
                }
                break;
            }
            next = Math.max(end, 1);
        }

        /** The refcount with the shadow's changes. */
        long get(long cluster) throws IOException {
            long bi = cluster >>> blockEntriesBits;
            int i = (int) (cluster & ((1L << blockEntriesBits) - 1));
            ByteBuffer copy = bi < Integer.MAX_VALUE ? copies.get((int) bi) : null;
            if (copy != null) {
                return entry(copy, i);
            }
            return Refcounts.this.get(cluster);
        }

        @Override
        public void update(long cluster, long count, long delta) throws IOException {
            for (long c = cluster; c < cluster + count; c++) {
                long bi = c >>> blockEntriesBits;
                if (bi >= Qcow2Header.MAX_REFTABLE_BYTES / 8) {
                    throw new Qcow2FormatException(file + ": host cluster " + c + " lies past what a refcount table"
                            + " can cover");
                }
                ByteBuffer block = blockCopy((int) bi);
                int i = (int) (c & ((1L << blockEntriesBits) - 1));
                long old = entry(block, i);
                long now = old + delta;
                if (now < 0 || now > maxRefcount || (delta > 0 && now < old)) {
                    throw new Qcow2FormatException(file + ": refcount of host cluster " + c + " would become " + now
                            + " (was " + old + ", max " + maxRefcount + ")");
                }
                setEntry(block, i, now);
                if (now == 0) {
                    freed.add(c);
                    lowestFreed = Math.min(lowestFreed, c);
                }
            }
        }

        /** {@code n} new contiguous clusters with refcount 1 in the shadow; returns the host offset of the first. */
        long allocate(int n) throws IOException {
            if (n <= 0) {
                throw new IllegalArgumentException("allocate " + n);
            }
            long start = next;
            next += n;
            update(start, n, 1);
            return start << clusterBits;
        }

        /** The shadow copy of refcount block {@code bi}, made on first use (its new cluster counted in the shadow). */
        private ByteBuffer blockCopy(int bi) throws IOException {
            ByteBuffer copy = copies.get(bi);
            if (copy != null) {
                return copy;
            }
            if (bi >= shadowTable.length) {
                shadowTable = java.util.Arrays.copyOf(shadowTable, Math.max(bi + 1, shadowTable.length * 3 / 2));
            }
            copy = ByteBuffer.allocate(clusterSize);
            long oldOffset = bi < table.length ? table[bi] : 0;
            if (oldOffset != 0) {
                copy.put(block(bi).duplicate().clear());
                copy.clear();
            }
            copies.put(bi, copy);
            long at = next++;
            shadowTable[bi] = at << clusterBits;
            update(at, 1, 1);
            if (oldOffset != 0) {
                update(oldOffset >>> clusterBits, 1, -1);
            }
            return copy;
        }

        /**
         * Writes the copied refcount blocks and a new refcount table to their new clusters and syncs; the file still
         * uses the old ones. The caller then writes the header's refcount_table_offset / _clusters
         * ({@link #tableOffset()}, {@link #tableClusters()}) together with the other fields that change, and calls
         * {@link Refcounts#adopt}.
         */
        void writeOut() throws IOException {
            update(tableOffset >>> clusterBits, Refcounts.this.tableClusters(), -1);
            long perCluster = clusterSize / 8;
            while (true) {
                int clusters = (int) ((shadowTable.length + perCluster - 1) / perCluster);
                if ((long) clusters * clusterSize > Qcow2Header.MAX_REFTABLE_BYTES) {
                    throw new IOException(file + ": the refcount table would exceed "
                            + (Qcow2Header.MAX_REFTABLE_BYTES >> 20) + " MiB");
                }
                long at = allocate(clusters);
                if (shadowTable.length > clusters * perCluster) {
                    update(at >>> clusterBits, clusters, -1); // its own refcount block grew the table: again
                    continue;
                }
                shadowTable = java.util.Arrays.copyOf(shadowTable, (int) (clusters * perCluster));
                newTableOffset = at;
                newTableClusters = clusters;
                break;
            }
            for (var c : copies.entrySet()) {
                FileIo.writeFully(channel, file, shadowTable[c.getKey()], c.getValue().duplicate().clear());
            }
            ByteBuffer t = ByteBuffer.allocate(shadowTable.length * 8);
            for (int i = 0; i < shadowTable.length; i++) {
                t.putLong(i * 8, shadowTable[i]);
            }
            FileIo.writeFully(channel, file, newTableOffset, t);
            channel.force(true);
        }

        long tableOffset() {
            return newTableOffset;
        }

        int tableClusters() {
            return newTableClusters;
        }
    }

    /** After the header names the shadow's refcount table: the shadow becomes the live refcounts. */
    void adopt(Shadow s) {
        tableOffset = s.newTableOffset;
        table = s.shadowTable;
        blocks.clear();
        for (var c : s.copies.entrySet()) {
            blocks.put(table[c.getKey()], c.getValue());
        }
        freeHint = Math.min(freeHint, s.lowestFreed);
        for (long c : s.freed) {
            onFree.accept(c << clusterBits);
        }
    }

    /** Indices of the refcount blocks that do not exist for the clusters [start, start+n), ascending. */
    private List<Long> missingBlocks(long start, long n) {
        TreeSet<Long> missing = new TreeSet<>();
        for (long bi = start >>> blockEntriesBits; bi <= (start + n - 1) >>> blockEntriesBits; bi++) {
            if (bi >= table.length || table[(int) bi] == 0) {
                missing.add(bi);
            }
        }
        return new ArrayList<>(missing);
    }

    private ByteBuffer block(int bi) throws IOException {
        long off = table[bi];
        ByteBuffer b = blocks.get(off);
        if (b == null) {
            if (off + clusterSize > channel.size()) {
                throw new Qcow2FormatException(file + ": refcount block " + bi + " at offset " + off
                        + " lies past the end of the file (refcount table byte offset " + (tableOffset + bi * 8L)
                        + ")");
            }
            b = ByteBuffer.allocate(clusterSize);
            FileIo.readFully(channel, file, off, b);
            b.clear();
            blocks.put(off, b);
        }
        return b;
    }

    private long entry(ByteBuffer block, int i) {
        switch (refcountBits) {
            case 64:
                return block.getLong(i * 8);
            case 32:
                return Integer.toUnsignedLong(block.getInt(i * 4));
            case 16:
                return Short.toUnsignedLong(block.getShort(i * 2));
            case 8:
                return Byte.toUnsignedLong(block.get(i));
            default: {
                int perByte = 8 / refcountBits;
                int shift = (i % perByte) * refcountBits;
                return (block.get(i / perByte) >>> shift) & ((1 << refcountBits) - 1);
            }
        }
    }

    private void setEntry(ByteBuffer block, int i, long v) {
        switch (refcountBits) {
            case 64:
                block.putLong(i * 8, v);
                break;
            case 32:
                block.putInt(i * 4, (int) v);
                break;
            case 16:
                block.putShort(i * 2, (short) v);
                break;
            case 8:
                block.put(i, (byte) v);
                break;
            default: {
                int perByte = 8 / refcountBits;
                int shift = (i % perByte) * refcountBits;
                int mask = ((1 << refcountBits) - 1) << shift;
                int b = block.get(i / perByte) & 0xff;
                block.put(i / perByte, (byte) ((b & ~mask) | (((int) v << shift) & mask)));
            }
        }
    }

    /** Writes the bytes holding entries first..last of block {@code bi} (write-through). */
    private void writeEntries(int bi, ByteBuffer block, int first, int last) throws IOException {
        int from = (int) ((long) first * refcountBits / 8);
        int to = (int) (((long) last + 1) * refcountBits + 7) / 8;
        ByteBuffer slice = block.duplicate();
        slice.limit(to).position(from);
        FileIo.writeFully(channel, file, table[bi] + from, slice);
    }
}
