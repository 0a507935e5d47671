package org.savevm.block.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.PendingBytes;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockMigrationStats;
import org.savevm.api.block.BlockStatus;
import org.savevm.block.codec.BlockFlags;
import org.savevm.block.codec.BlockRecordWriter;
import org.savevm.stream.MigrationOutput;

/**
 * The save side of one block migration, QEMU 7.2's block.c: setup holds every drive and starts its dirty log;
 * the bulk phase reads every chunk of every drive in order (with {@code block-incremental} only chunks allocated
 * in the top image) and the dirty phase re-sends chunks written since they were read; the completion, with the
 * guest stopped, sends whatever is left. Reads run on a few reader threads ahead of the sends, each into one of a
 * fixed pool of 1 MiB direct buffers, so the reads overlap the socket writes and memory stays bounded whatever
 * the disk size.
 *
 * <p>Unlike QEMU 7.2, whose pending estimate is a single chunk during the bulk phase (so that at unlimited
 * bandwidth it switched over and reported "completed" with most of the disk never sent), the estimate here is
 * every byte the bulk phase has not sent yet, plus the dirty chunks, plus reads in flight; and
 * {@link #firstPassDone()} stays false until the bulk phase has sent its last chunk.
 *
 * <p>Called by the migration thread only, except the {@link BlockMigrationStats} getters (any thread).
 */
final class BlockSaveSession implements LiveStateHandler.SaveSession, BlockMigrationStats {
    /** Chunk buffers (and so reads in flight plus chunks awaiting the socket): QEMU's MAX_PARALLEL_IO. */
    static final int DEFAULT_BUFFERS = 16;
    /** An iteration returns after this long so that the orchestrator can look at the pending bytes (ram's MAX_WAIT). */
    static final long MAX_WAIT_NANOS = 50_000_000L;
    /** Sent chunks held by reference in the output before it is flushed and their buffers reused. */
    private static final int FLUSH_EVERY = 2;
    private static final int READER_THREADS = 4;
    private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(BlockFlags.CHUNK_SIZE).asReadOnlyBuffer();
    private static final AtomicInteger SESSIONS = new AtomicInteger();

    /** One migrated drive. */
    private static final class Disk {
        final BlockDrive drive;
        final byte[] name;
        final long size;
        final long chunks;
        /** The migration's dirty bitmap: bit i of word i/64 is chunk i. */
        final long[] dirty;
        AutoCloseable hold;
        long dirtyCursor;

        Disk(BlockDrive drive) {
            this.drive = drive;
            this.name = BlockRecordWriter.checkName(drive.name());
            this.size = drive.size();
            this.chunks = (size + BlockFlags.CHUNK_SIZE - 1) / BlockFlags.CHUNK_SIZE;
            this.dirty = new long[(int) ((chunks + 63) / 64)];
        }

        int length(long chunk) {
            return (int) Math.min(BlockFlags.CHUNK_SIZE, size - chunk * BlockFlags.CHUNK_SIZE);
        }

        void sync() {
            drive.syncDirtyChunks(dirty);
        }

        /** Bytes of the chunks dirty in the bitmap, the short last chunk at its length. */
        long dirtyBytes() {
            long n = 0;
            for (long w : dirty) {
                n += Long.bitCount(w);
            }
            long bytes = n * BlockFlags.CHUNK_SIZE;
            long last = chunks - 1;
            if (last >= 0 && (dirty[(int) (last >>> 6)] & (1L << (last & 63))) != 0) {
                bytes -= BlockFlags.CHUNK_SIZE - length(last);
            }
            return bytes;
        }

        boolean testAndClear(long chunk) {
            int w = (int) (chunk >>> 6);
            long bit = 1L << (chunk & 63);
            boolean was = (dirty[w] & bit) != 0;
            dirty[w] &= ~bit;
            return was;
        }

        /** The first dirty chunk at or after {@code from}, or -1. */
        long nextDirty(long from) {
            for (long c = from; c < chunks; ) {
                int w = (int) (c >>> 6);
                long bits = dirty[w] & (-1L << (c & 63));
                if (bits != 0) {
                    long found = ((long) w << 6) + Long.numberOfTrailingZeros(bits);
                    return found < chunks ? found : -1;
                }
                c = ((long) w + 1) << 6;
            }
            return -1;
        }
    }

    /** A chunk read submitted to the readers; sent in submission order. */
    private record Read(Disk disk, long chunk, int length, ByteBuffer buffer, Future<Boolean> zero, boolean bulk) {
    }

    private final List<Disk> disks = new ArrayList<>();
    private final boolean zeroBlocks;
    private final boolean incremental;
    private final ExecutorService readers;
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    /** Buffers of the pool not allocated yet. */
    private int unallocated;
    private final ArrayDeque<Read> inFlight = new ArrayDeque<>();
    private final List<ByteBuffer> unflushed = new ArrayList<>();
    private final long total;

    private volatile long transferred;
    /** Bytes of the bulk phase not sent yet (read or not), skipped unallocated chunks excepted. */
    private volatile long bulkLeft;
    /** Bytes of dirty-phase chunks submitted and not sent yet. */
    private volatile long dirtyInFlight;
    /** Bytes of the chunks dirty in the bitmaps at the last sync. */
    private volatile long dirtyBytes;

    private int bulkDisk;
    private long bulkChunk;
    private int dirtyDisk;
    private int lastPercent = -1;
    private boolean closed;

    /**
     * @param drives     the drives to migrate (the writable ones)
     * @param zeroBlocks send all-zero chunks as ZERO_BLOCK records (capability zero-blocks)
     * @param incremental only chunks allocated in each drive's top image (parameter block-incremental)
     * @param buffers    chunk buffers of 1 MiB: reads in flight plus chunks waiting for the socket
     */
    BlockSaveSession(List<BlockDrive> drives, boolean zeroBlocks, boolean incremental, int buffers) {
        long sum = 0;
        for (BlockDrive d : drives) {
            Disk disk = new Disk(d);
            disks.add(disk);
            sum += disk.size;
        }
        this.total = sum;
        this.bulkLeft = sum;
        this.zeroBlocks = zeroBlocks;
        this.incremental = incremental;
        int n = Math.max(FLUSH_EVERY + 1, buffers);
        // allocated as the first reads need them, not all in the setup the guest's clock runs through
        this.unallocated = n;
        int id = SESSIONS.incrementAndGet();
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "savevm-block-read-" + id + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.readers = Executors.newFixedThreadPool(Math.min(READER_THREADS, n), tf);
    }

    /** block_save_setup: hold every drive, start its dirty log afresh; the section holds only EOS. */
    @Override
    public void setup(MigrationOutput out) throws IOException {
        for (Disk d : disks) {
            try {
                d.hold = d.drive.hold("migration");
            } catch (RuntimeException e) {
                throw new IOException("block: device '" + d.drive.name() + "' cannot be held for migration: "
                        + e.getMessage(), e);
            }
            // a fresh log: what was written before the migration is sent by the bulk phase anyway
            d.drive.syncDirtyChunks(new long[d.dirty.length]);
        }
        BlockRecordWriter.writeEos(out);
    }

    @Override
    public boolean iterate(MigrationOutput out) throws IOException {
        long t0 = System.nanoTime();
        boolean passDone = false;
        if (bulkLeft == 0 && bulkDisk >= disks.size()) {
            startDirtyPass();
        } else {
            // one sync per iteration in the bulk phase: the logs' bits move into the bitmaps, whose bits ahead of
            // the bulk cursor are cleared as the bulk phase reaches them
            syncAll();
        }
        while (true) {
            while (out.error() == null && !out.rateLimitExceeded() && bufferAvailable()) {
                if (!submitNext(out)) {
                    passDone = true;
                    break;
                }
            }
            if (inFlight.isEmpty()) {
                break;
            }
            send(inFlight.poll(), out);
            progress(out);
            if (out.rateLimitExceeded() || System.nanoTime() - t0 > MAX_WAIT_NANOS) {
                break;
            }
        }
        flushSent(out);
        BlockRecordWriter.writeEos(out);
        out.checkError();
        return passDone && inFlight.isEmpty() && bulkLeft == 0;
    }

    /** Submits the next chunk of the bulk phase, else of the dirty pass; false when there is none. */
    private boolean submitNext(MigrationOutput out) throws IOException {
        while (bulkDisk < disks.size()) {
            Disk d = disks.get(bulkDisk);
            if (bulkChunk >= d.chunks) {
                bulkDisk++;
                bulkChunk = 0;
                continue;
            }
            long c = bulkChunk++;
            if (incremental && !allocated(d, c)) {
                bulkLeft -= d.length(c);
                progress(out);
                continue;
            }
            // the chunk's dirty bit goes with this read: it holds only writes synced before now, which the read
            // sees; a later write is in the drive's log and comes back with the next sync (at worst a chunk
            // written just before its read is sent once more in the dirty phase)
            d.testAndClear(c);
            submit(d, c, true);
            return true;
        }
        while (dirtyDisk < disks.size()) {
            Disk d = disks.get(dirtyDisk);
            long c = d.nextDirty(d.dirtyCursor);
            if (c < 0) {
                dirtyDisk++;
                continue;
            }
            d.testAndClear(c);
            d.dirtyCursor = c + 1;
            dirtyBytes = Math.max(0, dirtyBytes - d.length(c));
            submit(d, c, false);
            return true;
        }
        return false;
    }

    private ByteBuffer takeBuffer() {
        ByteBuffer buf = free.poll();
        if (buf == null) {
            buf = ChunkBuffers.allocate();
            unallocated--;
        }
        return buf;
    }

    private boolean bufferAvailable() {
        return !free.isEmpty() || unallocated > 0;
    }

    /** A new pass over the dirty bitmaps (QEMU's blk_mig_reset_dirty_cursor after a sync). */
    private void startDirtyPass() {
        syncAll();
        dirtyDisk = 0;
        for (Disk d : disks) {
            d.dirtyCursor = 0;
        }
    }

    private void syncAll() {
        long bytes = 0;
        for (Disk d : disks) {
            d.sync();
            bytes += d.dirtyBytes();
        }
        dirtyBytes = bytes;
    }

    /** Whether any part of the chunk is allocated in the drive's top image (bdrv_is_allocated). */
    private static boolean allocated(Disk d, long chunk) throws IOException {
        BlockImage image = d.drive.image();
        long pos = chunk * BlockFlags.CHUNK_SIZE;
        long end = pos + d.length(chunk);
        while (pos < end) {
            BlockStatus s;
            try {
                s = image.blockStatus(pos, end - pos);
            } catch (IOException e) {
                return true; // as QEMU: a failed query counts as allocated
            }
            if (s.allocated()) {
                return true;
            }
            pos = Math.max(pos + 1, s.end());
        }
        return false;
    }

    private void submit(Disk d, long chunk, boolean bulk) {
        ByteBuffer buf = takeBuffer();
        int len = d.length(chunk);
        long offset = chunk * BlockFlags.CHUNK_SIZE;
        Future<Boolean> f = readers.submit(() -> {
            buf.clear().limit(len);
            d.drive.read(offset, buf);
            if (buf.hasRemaining()) {
                throw new IOException("short read of " + buf.position() + " of " + len + " bytes");
            }
            if (len < BlockFlags.CHUNK_SIZE) {
                // QEMU sends what its buffer held past a short last chunk; zeros here
                buf.limit(BlockFlags.CHUNK_SIZE).put(len, ZERO, 0, BlockFlags.CHUNK_SIZE - len);
            }
            buf.position(0).limit(BlockFlags.CHUNK_SIZE);
            return zeroBlocks && buf.mismatch(ZERO.duplicate()) < 0;
        });
        if (!bulk) {
            dirtyInFlight += len;
        }
        inFlight.add(new Read(d, chunk, len, buf, f, bulk));
    }

    private void send(Read r, MigrationOutput out) throws IOException {
        boolean zero;
        try {
            zero = r.zero().get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw new IOException(String.format("block: reading device '%s' at offset 0x%x failed: %s",
                    r.disk().drive.name(), r.chunk() * BlockFlags.CHUNK_SIZE, c.getMessage()), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("block: interrupted waiting for a read", e);
        }
        BlockRecordWriter.writeChunk(out, r.disk().name, r.chunk() * BlockFlags.CHUNK_SIZE, r.buffer(), zero);
        if (zero) {
            free.add(r.buffer());
        } else {
            unflushed.add(r.buffer());
        }
        transferred += r.length();
        if (r.bulk()) {
            bulkLeft -= r.length();
        } else {
            dirtyInFlight -= r.length();
        }
        if (unflushed.size() >= FLUSH_EVERY) {
            flushSent(out);
        }
    }

    /** Flushes the output so that the buffers it held by reference can take new reads. */
    private void flushSent(MigrationOutput out) throws IOException {
        if (!unflushed.isEmpty()) {
            out.flush();
            free.addAll(unflushed);
            unflushed.clear();
        }
    }

    /** A progress record whenever the bulk phase's integer percentage changes (blk_mig_save_bulked_block). */
    private void progress(MigrationOutput out) {
        if (lastPercent == 100) {
            return;
        }
        int percent = total == 0 ? 100 : (int) ((total - bulkLeft) * 100 / total);
        if (percent != lastPercent) {
            lastPercent = percent;
            BlockRecordWriter.writeProgress(out, percent);
        }
    }

    @Override
    public PendingBytes pending(boolean exact) {
        if (exact) {
            // during the bulk phase this also counts chunks ahead of the bulk cursor, which bulkLeft holds
            // already: an estimate too high by those, never too low
            syncAll();
        }
        return new PendingBytes(bulkLeft + dirtyInFlight + dirtyBytes, 0);
    }

    @Override
    public boolean firstPassDone() {
        return bulkLeft == 0;
    }

    /** block_save_complete, guest stopped: the rest of the bulk phase if any, then every dirty chunk; 100 %; EOS. */
    @Override
    public void completePrecopy(MigrationOutput out) throws IOException {
        while (true) {
            if (bulkLeft == 0 && bulkDisk >= disks.size() && inFlight.isEmpty()) {
                startDirtyPass();
                if (dirtyBytes == 0) {
                    break;
                }
            }
            while (out.error() == null && bufferAvailable() && submitNext(out)) {
                // fill the read-ahead
            }
            if (!inFlight.isEmpty()) {
                send(inFlight.poll(), out);
                progress(out);
            }
            out.checkError();
        }
        flushSent(out);
        BlockRecordWriter.writeProgress(out, 100);
        BlockRecordWriter.writeEos(out);
        out.checkError();
        release();
    }

    @Override
    public long transferred() {
        return transferred;
    }

    @Override
    public long remaining() {
        return bulkLeft + dirtyInFlight + dirtyBytes;
    }

    @Override
    public long total() {
        return total;
    }

    /** Stops the readers (waiting for reads in flight, which use the buffers) and releases the drives. */
    private void release() {
        if (closed) {
            return;
        }
        closed = true;
        for (Read r : inFlight) {
            r.zero().cancel(false);
        }
        inFlight.clear();
        readers.shutdown();
        try {
            readers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Disk d : disks) {
            if (d.hold != null) {
                try {
                    d.hold.close();
                } catch (Exception e) {
                    // releasing a hold cannot fail in a way the migration could act on
                }
                d.hold = null;
            }
        }
    }

    @Override
    public void close() {
        release();
    }
}
