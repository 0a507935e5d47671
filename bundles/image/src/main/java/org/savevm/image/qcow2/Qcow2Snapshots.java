package org.savevm.image.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.savevm.api.block.InternalSnapshots;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.image.internal.FileIo;

/**
 * The internal snapshots of a qcow2 image (docs/interop/qcow2.txt "Snapshots"; QEMU's block/qcow2-snapshot.c and
 * qcow2_update_snapshot_refcount): the snapshot table, L1 table copies, the refcount of every cluster a snapshot
 * reaches, and the VM state area after the guest-visible end (QEMU's qcow2_vm_state_offset: the first L1 entry
 * past the disk).
 *
 * <p>Crash safety: create, delete and revert build everything they change off to the side — a new snapshot table,
 * L1 and L2 copies, and the refcounts through a {@link Refcounts.Shadow} (copied refcount blocks and table) — in
 * clusters past the end of what the image uses, sync, and switch to it with one 36-byte header write (l1_size through
 * snapshots_offset) that is synced too. A kill before that write leaves the old image (plus unreferenced clusters of
 * refcount 0, which {@code qemu-img check} does not report), after it the new one: never a half snapshot, never a
 * refcount that disagrees with a COPIED flag (QEMU's own order, refcounts then flags through its metadata caches,
 * has windows where {@code qemu-img check} reports OFLAG_COPIED errors). The active image gets copies of the L2
 * tables whose COPIED flags change (the snapshot keeps the originals); the others are shared.
 *
 * <p>Runs under the image's lock; every change goes through the image's refcounts and ends with the image re-reading
 * its active L1 table and dropping its L2 cache.
 */
final class Qcow2Snapshots implements InternalSnapshots {
    /** QEMU's QCOW_MAX_SNAPSHOTS. */
    static final int MAX_SNAPSHOTS = 65536;
    /** QEMU's QCOW_MAX_SNAPSHOTS_SIZE. */
    static final long MAX_TABLE_BYTES = 64L << 20;
    /** QEMU's QCOW_MAX_SNAPSHOT_EXTRA_DATA. */
    static final int MAX_EXTRA = 1024;
    /** vm_state_size_large, disk_size, icount: what QEMU 7.2 writes. */
    static final int EXTRA = 24;
    static final int ENTRY_HEADER = 40;

    /** One snapshot table entry; {@code unknownExtra} is extra data past the known fields, kept as it was. */
    record Entry(long l1Offset, int l1Size, String id, String name, long dateSeconds, int dateNanos,
            long vmClockNanos, long vmStateSize, long diskSize, long icount, byte[] unknownExtra) {
        SnapshotInfo info() {
            return new SnapshotInfo(id, name, vmStateSize, dateSeconds, dateNanos, vmClockNanos, icount, diskSize);
        }

        int bytes() {
            return ENTRY_HEADER + EXTRA + unknownExtra.length + utf8(id).length + utf8(name).length;
        }
    }

    private final Qcow2Image image;
    private final Path path;
    private final FileChannel channel;
    private final Qcow2Header header;
    private final int clusterBits;
    private final int clusterSize;
    private final int l2Bits;
    private List<Entry> table;
    private long tableOffset;
    private long tableBytes;
    /** The last L2 table read for VM state reads (host offset, entries); dropped on every change. */
    private long readL2Offset = -1;
    private long[] readL2;

    Qcow2Snapshots(Qcow2Image image, Path path, FileChannel channel, Qcow2Header header) {
        this.image = image;
        this.path = path;
        this.channel = channel;
        this.header = header;
        this.clusterBits = header.clusterBits;
        this.clusterSize = 1 << clusterBits;
        this.l2Bits = clusterBits - 3;
        this.tableOffset = header.snapshotsOffset;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- the table

    /** Reads the table once (qcow2_read_snapshots), bounded: 64 MiB, 65536 entries, 1 KiB extra data each. */
    private List<Entry> table() throws IOException {
        if (table != null) {
            return table;
        }
        int nb = header.nbSnapshots;
        List<Entry> list = new ArrayList<>();
        long fileSize = channel.size();
        long off = tableOffset;
        for (int i = 0; i < nb; i++) {
            off = (off + 7) & ~7L;
            if (off - tableOffset + ENTRY_HEADER > MAX_TABLE_BYTES || off + ENTRY_HEADER > fileSize) {
                throw new Qcow2FormatException(path + ": snapshot table entry " + i + " at byte offset " + off
                        + " lies past the end of the file or of the 64 MiB table limit");
            }
            ByteBuffer h = ByteBuffer.allocate(ENTRY_HEADER);
            FileIo.readFully(channel, path, off, h);
            long l1Offset = h.getLong(0);
            int l1Size = h.getInt(8);
            int idSize = Short.toUnsignedInt(h.getShort(12));
            int nameSize = Short.toUnsignedInt(h.getShort(14));
            long dateSeconds = Integer.toUnsignedLong(h.getInt(16));
            int dateNanos = h.getInt(20);
            long vmClock = h.getLong(24);
            long vmState = Integer.toUnsignedLong(h.getInt(32));
            int extraSize = h.getInt(36);
            if (extraSize < 0 || extraSize > MAX_EXTRA) {
                throw new Qcow2FormatException(path + ": too much extra metadata (" + Integer.toUnsignedString(
                        extraSize) + " bytes) in snapshot table entry " + i + " at byte offset " + off);
            }
            if (dateNanos < 0 || dateNanos >= 1_000_000_000) {
                throw new Qcow2FormatException(path + ": snapshot table entry " + i + " at byte offset " + off
                        + " has date_nsec " + Integer.toUnsignedString(dateNanos));
            }
            long rest = (long) extraSize + idSize + nameSize;
            if (off + ENTRY_HEADER + rest > fileSize || off - tableOffset + ENTRY_HEADER + rest > MAX_TABLE_BYTES) {
                throw new Qcow2FormatException(path + ": snapshot table entry " + i + " at byte offset " + off
                        + " lies past the end of the file or of the 64 MiB table limit");
            }
            ByteBuffer body = ByteBuffer.allocate((int) rest);
            FileIo.readFully(channel, path, off + ENTRY_HEADER, body);
            long diskSize = header.size;
            long icount = -1;
            if (extraSize >= 8) {
                vmState = body.getLong(0);
            }
            if (extraSize >= 16) {
                diskSize = body.getLong(8);
            }
            if (extraSize >= 24) {
                icount = body.getLong(16);
            }
            if (vmState < 0 || diskSize < 0) {
                throw new Qcow2FormatException(path + ": snapshot table entry " + i + " at byte offset " + off
                        + " has VM state size " + Long.toUnsignedString(vmState) + ", disk size "
                        + Long.toUnsignedString(diskSize));
            }
            byte[] unknown = extraSize > EXTRA ? Arrays.copyOfRange(body.array(), EXTRA, extraSize) : new byte[0];
            String id = new String(body.array(), extraSize, idSize, StandardCharsets.UTF_8);
            String name = new String(body.array(), extraSize + idSize, nameSize, StandardCharsets.UTF_8);
            list.add(new Entry(l1Offset, l1Size, id, name, dateSeconds, dateNanos, vmClock, vmState, diskSize,
                    icount, unknown));
            off += ENTRY_HEADER + rest;
        }
        tableBytes = nb == 0 ? 0 : off - tableOffset;
        table = list;
        return list;
    }

    /**
     * Commits a change (qcow2_write_snapshots plus the refcount and L1 updates of qcow2-snapshot.c, made atomic):
     * {@code entries} (null: the table stays) is written to new clusters, the shadow's refcount blocks and table are
     * written and synced, then one 36-byte header write switches l1_size, l1_table_offset, refcount_table_offset,
     * refcount_table_clusters, nb_snapshots and snapshots_offset together (bytes 36..71, within the first sector),
     * and is synced. Before that write the file is the old image with unreferenced clusters past its end; after it,
     * the new one. The image then re-reads its active L1 table.
     */
    private void commit(Refcounts.Shadow tx, long l1Offset, int l1Size, List<Entry> entries) throws IOException {
        long newOffset = tableOffset;
        long size = tableBytes;
        int count = table().size();
        if (entries != null) {
            size = 0;
            for (Entry e : entries) {
                size = ((size + 7) & ~7L) + e.bytes();
            }
            if (size > MAX_TABLE_BYTES) {
                throw new IOException(path + ": snapshot table would grow past 64 MiB");
            }
            count = entries.size();
            newOffset = 0;
            if (!entries.isEmpty()) {
                newOffset = tx.allocate(clustersFor(size));
                FileIo.writeFully(channel, path, newOffset, encode(entries, clustersFor(size)));
            }
            if (tableBytes > 0) {
                tx.update(tableOffset >>> clusterBits, clustersFor(tableBytes), -1);
            }
        }
        tx.writeOut();
        ByteBuffer h = ByteBuffer.allocate(36).putInt(0, l1Size).putLong(4, l1Offset).putLong(12, tx.tableOffset())
                .putInt(20, tx.tableClusters()).putInt(24, count).putLong(28, newOffset);
        FileIo.writeFully(channel, path, Qcow2Header.OFF_L1_SIZE, h);
        channel.force(true);
        image.refcounts().adopt(tx);
        if (entries != null) {
            table = List.copyOf(entries);
            tableOffset = newOffset;
            tableBytes = size;
        }
        image.reloadL1(l1Offset, l1Size);
    }

    private ByteBuffer encode(List<Entry> entries, int clusters) {
        ByteBuffer b = ByteBuffer.allocate(clusters << clusterBits);
        int at = 0;
        for (Entry e : entries) {
            at = (at + 7) & ~7;
            byte[] id = utf8(e.id());
            byte[] name = utf8(e.name());
            b.putLong(at, e.l1Offset()).putInt(at + 8, e.l1Size()).putShort(at + 12, (short) id.length)
                    .putShort(at + 14, (short) name.length).putInt(at + 16, (int) e.dateSeconds())
                    .putInt(at + 20, e.dateNanos()).putLong(at + 24, e.vmClockNanos())
                    // the 32-bit field: truncated as QEMU truncates it, the large field is the real size
                    .putInt(at + 32, (int) e.vmStateSize()).putInt(at + 36, EXTRA + e.unknownExtra().length);
            b.putLong(at + 40, e.vmStateSize()).putLong(at + 48, e.diskSize()).putLong(at + 56, e.icount());
            b.put(at + 64, e.unknownExtra());
            b.put(at + 64 + e.unknownExtra().length, id);
            b.put(at + 64 + e.unknownExtra().length + id.length, name);
            at += e.bytes();
        }
        return b;
    }

    private Entry find(String idOrName) throws IOException {
        for (Entry e : table()) {
            if (e.id().equals(idOrName)) {
                return e;
            }
        }
        for (Entry e : table()) {
            if (e.name().equals(idOrName)) {
                return e;
            }
        }
        throw new IOException(path + ": no snapshot '" + idOrName + "'");
    }

    /** find_new_snapshot_id: one more than the largest leading number of any id. */
    private String newId() throws IOException {
        long max = 0;
        for (Entry e : table()) {
            String s = e.id();
            int n = 0;
            while (n < s.length() && n < 18 && Character.isDigit(s.charAt(n))) {
                n++;
            }
            if (n > 0) {
                max = Math.max(max, Long.parseLong(s.substring(0, n)));
            }
        }
        return Long.toString(max + 1);
    }

    // ---------------------------------------------------------------- L1 tables and refcounts

    private long l2Span() {
        return 1L << (clusterBits + l2Bits);
    }

    /** Where the VM state of a disk of {@code diskSize} bytes starts: the first L1 entry past the disk. */
    long vmStateOffset(long diskSize) {
        return ((diskSize + l2Span() - 1) / l2Span()) * l2Span();
    }

    private int clustersFor(long bytes) {
        return (int) ((bytes + clusterSize - 1) >>> clusterBits);
    }

    /** The active L1 table covers at least {@code minSize} entries afterwards (the image's qcow2_grow_l1_table). */
    private void ensureL1(long minSize) throws IOException {
        if (image.activeL1().length < minSize) {
            if (minSize > Qcow2Header.MAX_L1_BYTES / 8) {
                throw new IOException(path + ": an L1 table of " + minSize + " entries is larger than "
                        + (Qcow2Header.MAX_L1_BYTES >> 20) + " MiB");
            }
            image.growL1((int) minSize);
        }
    }

    private long[] readTable(long offset, int entries, String what) throws IOException {
        if ((offset & (clusterSize - 1)) != 0 || entries < 0 || entries * 8L > Qcow2Header.MAX_L1_BYTES
                || offset + entries * 8L > channel.size()) {
            throw new Qcow2FormatException(path + ": " + what + " at offset " + offset + " with " + entries
                    + " entries is misaligned, too large or past the end of the file");
        }
        ByteBuffer b = ByteBuffer.allocate(entries * 8);
        FileIo.readFully(channel, path, offset, b);
        long[] t = new long[entries];
        for (int i = 0; i < entries; i++) {
            t[i] = b.getLong(i * 8);
        }
        return t;
    }

    private void writeTableAt(long offset, long[] t) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(t.length * 8);
        for (int i = 0; i < t.length; i++) {
            b.putLong(i * 8, t[i]);
        }
        FileIo.writeFully(channel, path, offset, b);
    }

    /** The L2 table the L1 entry {@code i} of the table at {@code l1Offset} names, checked and read. */
    private long[] readL2(long l2Offset, long l1Offset, int i) throws IOException {
        if ((l2Offset & (clusterSize - 1)) != 0 || l2Offset + clusterSize > channel.size()) {
            throw new Qcow2FormatException(path + ": L2 table offset 0x" + Long.toHexString(l2Offset)
                    + " (L1 table at " + l1Offset + ", entry " + i + ") is misaligned or past the end of the file");
        }
        return readTable(l2Offset, 1 << l2Bits, "L2 table");
    }

    /**
     * Adds {@code addend} to the refcount of every L2 table and data cluster the L1 table {@code l1} reaches (one
     * more or one less L1 table reaching them; qcow2_update_snapshot_refcount's counting).
     */
    private void addToTree(Refcounts.Shadow tx, long[] l1, long l1Offset, int addend) throws IOException {
        for (int i = 0; i < l1.length; i++) {
            long l2Offset = L2Entry.offset(l1[i]);
            if (l2Offset != 0) {
                addToClusters(tx, readL2(l2Offset, l1Offset, i), addend);
                tx.update(l2Offset >>> clusterBits, 1, addend);
            }
        }
    }

    /** Clears every COPIED flag of {@code l2}; true if there was one. */
    private static boolean clearCopied(long[] l2) {
        boolean any = false;
        for (int j = 0; j < l2.length; j++) {
            if ((l2[j] & L2Entry.COPIED) != 0) {
                l2[j] &= ~L2Entry.COPIED;
                any = true;
            }
        }
        return any;
    }

    private long[] l1Without(long[] l1, int length) {
        long[] t = new long[length];
        for (int i = 0; i < Math.min(length, l1.length); i++) {
            t[i] = l1[i] & ~L2Entry.COPIED;
        }
        return t;
    }

    /** Adds {@code addend} to the refcounts of the clusters an L2 table names, runs of contiguous ones at once. */
    private void addToClusters(RefcountUpdater rc, long[] l2, int addend) throws IOException {
        long runStart = -1;
        long runLength = 0;
        for (long e : l2) {
            L2Entry.Type t = L2Entry.type(e, header.version);
            long off = L2Entry.offset(e);
            if (t == L2Entry.Type.COMPRESSED) {
                CompressedCluster c = CompressedCluster.of(e, clusterBits);
                long first = c.firstCluster(clusterBits);
                rc.update(first, c.lastCluster(clusterBits) - first + 1, addend);
                continue;
            }
            if (!(t == L2Entry.Type.NORMAL || (t == L2Entry.Type.ZERO && off != 0))) {
                continue;
            }
            long cluster = off >>> clusterBits;
            if (runStart >= 0 && cluster == runStart + runLength) {
                runLength++;
                continue;
            }
            if (runStart >= 0) {
                rc.update(runStart, runLength, addend);
            }
            runStart = cluster;
            runLength = 1;
        }
        if (runStart >= 0) {
            rc.update(runStart, runLength, addend);
        }
    }

    // ---------------------------------------------------------------- InternalSnapshots

    @Override
    public List<SnapshotInfo> list() throws IOException {
        image.lock().lock();
        try {
            return table().stream().map(Entry::info).toList();
        } finally {
            image.lock().unlock();
        }
    }

    @Override
    public void writeVmState(long position, ByteBuffer src) throws IOException {
        image.lock().lock();
        try {
            image.checkWritableForSnapshots();
            int n = src.remaining();
            if (position < 0) {
                throw new IOException(path + ": VM state write at negative position " + position);
            }
            if (n == 0) {
                return;
            }
            readL2Offset = -1;
            image.writeVmState(position, src);
        } finally {
            image.lock().unlock();
        }
    }

    @Override
    public int readVmState(String idOrName, long position, ByteBuffer dst) throws IOException {
        image.lock().lock();
        try {
            Entry e = find(idOrName);
            if (position < 0 || position >= e.vmStateSize()) {
                return 0;
            }
            int total = (int) Math.min(dst.remaining(), e.vmStateSize() - position);
            long guest = vmStateOffset(e.diskSize()) + position;
            ByteBuffer out = dst.slice().limit(total);
            while (out.hasRemaining()) {
                int inCluster = (int) (guest & (clusterSize - 1));
                int n = Math.min(out.remaining(), clusterSize - inCluster);
                ByteBuffer piece = out.slice().limit(n);
                long entry = snapshotEntry(e, guest);
                switch (L2Entry.type(entry, header.version)) {
                    case NORMAL:
                        FileIo.readOrZero(channel, path, L2Entry.offset(entry) + inCluster, piece);
                        break;
                    case COMPRESSED: {
                        ByteBuffer c = ByteBuffer.allocate(clusterSize);
                        CompressedCluster.of(entry, clusterBits).read(channel, path, channel.size(),
                                guest - inCluster, c);
                        piece.put(c.array(), inCluster, n);
                        break;
                    }
                    default:
                        FileIo.fillZero(piece);
                }
                out.position(out.position() + n);
                guest += n;
            }
            dst.position(dst.position() + total);
            return total;
        } finally {
            image.lock().unlock();
        }
    }

    /** The L2 entry for {@code guest} in snapshot {@code e}'s tables (0 where it maps nothing). */
    private long snapshotEntry(Entry e, long guest) throws IOException {
        long l1Index = guest >>> (clusterBits + l2Bits);
        if (l1Index >= e.l1Size()) {
            return 0;
        }
        if ((e.l1Offset() & (clusterSize - 1)) != 0 || e.l1Offset() + e.l1Size() * 8L > channel.size()) {
            throw new Qcow2FormatException(path + ": L1 table of snapshot " + e.id() + " at offset " + e.l1Offset()
                    + " is misaligned or past the end of the file");
        }
        ByteBuffer b = ByteBuffer.allocate(8);
        FileIo.readFully(channel, path, e.l1Offset() + l1Index * 8, b);
        long l2Offset = L2Entry.offset(b.getLong(0));
        if (l2Offset == 0) {
            return 0;
        }
        if (l2Offset != readL2Offset) {
            if ((l2Offset & (clusterSize - 1)) != 0 || l2Offset + clusterSize > channel.size()) {
                throw new Qcow2FormatException(path + ": L2 table offset 0x" + Long.toHexString(l2Offset)
                        + " of snapshot " + e.id() + " is misaligned or past the end of the file");
            }
            readL2 = readTable(l2Offset, 1 << l2Bits, "L2 table");
            readL2Offset = l2Offset;
        }
        long entry = readL2[(int) ((guest >>> clusterBits) & ((1 << l2Bits) - 1))];
        if (L2Entry.type(entry, header.version) == L2Entry.Type.NORMAL
                && (L2Entry.offset(entry) & (clusterSize - 1)) != 0) {
            throw new Qcow2FormatException(path + ": data cluster offset 0x" + Long.toHexString(L2Entry.offset(entry))
                    + " of snapshot " + e.id() + " is not cluster-aligned");
        }
        return entry;
    }

    @Override
    public SnapshotInfo create(String name, long vmStateSize, long dateSeconds, int dateNanos, long vmClockNanos,
            long icount) throws IOException {
        image.lock().lock();
        try {
            image.checkWritableForSnapshots();
            List<Entry> entries = new ArrayList<>(table());
            if (entries.size() >= MAX_SNAPSHOTS) {
                throw new IOException(path + ": already " + MAX_SNAPSHOTS + " snapshots");
            }
            if (utf8(name).length > 0xffff) {
                throw new IOException(path + ": snapshot name longer than 65535 bytes");
            }
            if (vmStateSize < 0 || dateSeconds < 0 || dateSeconds > 0xffffffffL) {
                throw new IOException(path + ": bad VM state size " + vmStateSize + " or date " + dateSeconds);
            }
            readL2Offset = -1;
            long vmStart = vmStateOffset(image.size());
            if (vmStateSize > 0) {
                ensureL1(((vmStart + vmStateSize - 1) >>> (clusterBits + l2Bits)) + 1);
            }
            String id = newId();
            long[] active = image.activeL1();
            long activeOffset = image.activeL1Offset();
            Refcounts.Shadow tx = image.refcounts().shadow();
            // the snapshot keeps the active L2 tables (COPIED flags mean nothing in a snapshot's L1 table); the
            // active image gets copies of those with COPIED entries, all flags cleared, and shares the others
            long[] copy = l1Without(active, active.length);
            long copyOffset = 0;
            long[] next = new long[active.length];
            if (copy.length > 0) {
                copyOffset = tx.allocate(clustersFor(copy.length * 8L));
                writeTableAt(copyOffset, copy);
                shareTree(tx, active, activeOffset, next);
            }
            long nextOffset = activeOffset;
            if (next.length > 0) {
                nextOffset = tx.allocate(clustersFor(next.length * 8L));
                writeTableAt(nextOffset, next);
                tx.update(activeOffset >>> clusterBits, clustersFor(active.length * 8L), -1);
            }
            Entry e = new Entry(copyOffset, copy.length, id, name, dateSeconds, dateNanos, vmClockNanos, vmStateSize,
                    image.size(), icount, new byte[0]);
            entries.add(e);
            commit(tx, nextOffset, next.length, entries);
            // the VM state leaves the active image: it only costs copy-on-write there (qcow2_cluster_discard)
            if (vmStateSize > 0) {
                image.discardVmState(vmStateSize);
            }
            return e.info();
        } finally {
            image.lock().unlock();
        }
    }

    /**
     * Gives the active image a new reference to every L2 table of {@code l1} (read from the L1 table at
     * {@code l1Offset}) and to the clusters they name: a table with COPIED entries becomes a copy with the flags
     * cleared (a COPIED entry would let the active image write in place into a cluster another tree keeps), any
     * other is shared. {@code next[i]} receives the active L1 entry for {@code l1[i]}; empty entries stay 0.
     */
    private void shareTree(Refcounts.Shadow tx, long[] l1, long l1Offset, long[] next) throws IOException {
        for (int i = 0; i < l1.length; i++) {
            long l2Offset = L2Entry.offset(l1[i]);
            if (l2Offset == 0) {
                continue;
            }
            long[] l2 = readL2(l2Offset, l1Offset, i);
            addToClusters(tx, l2, 1);
            if (clearCopied(l2)) {
                long fresh = tx.allocate(1);
                writeTableAt(fresh, l2);
                next[i] = fresh | L2Entry.COPIED;
            } else {
                tx.update(l2Offset >>> clusterBits, 1, 1);
                next[i] = l2Offset;
            }
        }
    }

    @Override
    public void revert(String idOrName) throws IOException {
        image.lock().lock();
        try {
            image.checkWritableForSnapshots();
            Entry e = find(idOrName);
            if (e.diskSize() != image.size()) {
                // as qcow2_snapshot_goto: the image takes the snapshot's size first, then the snapshot's tables
                image.resize(e.diskSize());
            }
            readL2Offset = -1;
            long[] snapshotL1 = readTable(e.l1Offset(), e.l1Size(), "L1 table of snapshot " + e.id());
            ensureL1(e.l1Size());
            long[] old = image.activeL1();
            long activeOffset = image.activeL1Offset();
            Refcounts.Shadow tx = image.refcounts().shadow();
            // raise first, then lower: a cluster both trees reach never passes through 0. The snapshot's L2 tables
            // are shared, except those with (stale) COPIED entries: the active image gets cleared copies of them
            long[] next = new long[old.length];
            shareTree(tx, snapshotL1, e.l1Offset(), next);
            addToTree(tx, old, activeOffset, -1);
            long nextOffset = activeOffset;
            if (next.length > 0) {
                nextOffset = tx.allocate(clustersFor(next.length * 8L));
                writeTableAt(nextOffset, next);
                tx.update(activeOffset >>> clusterBits, clustersFor(old.length * 8L), -1);
            }
            commit(tx, nextOffset, next.length, null);
        } finally {
            image.lock().unlock();
        }
    }

    @Override
    public void delete(String idOrName) throws IOException {
        image.lock().lock();
        try {
            image.checkWritableForSnapshots();
            Entry e = find(idOrName);
            readL2Offset = -1;
            long[] snapshotL1 = readTable(e.l1Offset(), e.l1Size(), "L1 table of snapshot " + e.id());
            List<Entry> entries = new ArrayList<>(table());
            entries.remove(e);
            Refcounts.Shadow tx = image.refcounts().shadow();
            addToTree(tx, snapshotL1, e.l1Offset(), -1);
            if (e.l1Size() > 0) {
                tx.update(e.l1Offset() >>> clusterBits, clustersFor(e.l1Size() * 8L), -1);
            }
            // COPIED flags of the active tables where a refcount fell to 1: on copies of those L2 tables (a table
            // of refcount 1 after the delete is the active image's alone; its old cluster is let go)
            long[] active = image.activeL1();
            long activeOffset = image.activeL1Offset();
            long[] next = active.clone();
            boolean changed = false;
            for (int i = 0; i < active.length; i++) {
                long l2Offset = L2Entry.offset(active[i]);
                if (l2Offset == 0) {
                    continue;
                }
                boolean single = tx.get(l2Offset >>> clusterBits) == 1;
                long want = single ? l2Offset | L2Entry.COPIED : l2Offset;
                if (single) {
                    long[] l2 = readL2(l2Offset, activeOffset, i);
                    boolean l2Changed = false;
                    for (int j = 0; j < l2.length; j++) {
                        long en = l2[j];
                        long w = en & ~L2Entry.COPIED;
                        L2Entry.Type t = L2Entry.type(en, header.version);
                        long off = L2Entry.offset(en);
                        if ((t == L2Entry.Type.NORMAL || (t == L2Entry.Type.ZERO && off != 0))
                                && tx.get(off >>> clusterBits) == 1) {
                            w |= L2Entry.COPIED;
                        }
                        if (w != en) {
                            l2[j] = w;
                            l2Changed = true;
                        }
                    }
                    if (l2Changed) {
                        long fresh = tx.allocate(1);
                        writeTableAt(fresh, l2);
                        tx.update(l2Offset >>> clusterBits, 1, -1);
                        want = fresh | L2Entry.COPIED;
                    }
                }
                want |= active[i] & ~(L2Entry.COPIED | L2Entry.offset(active[i]));
                if (want != active[i]) {
                    next[i] = want;
                    changed = true;
                }
            }
            long nextOffset = activeOffset;
            if (changed) {
                nextOffset = tx.allocate(clustersFor(next.length * 8L));
                writeTableAt(nextOffset, next);
                tx.update(activeOffset >>> clusterBits, clustersFor(active.length * 8L), -1);
            }
            commit(tx, nextOffset, next.length, entries);
        } finally {
            image.lock().unlock();
        }
    }
}
