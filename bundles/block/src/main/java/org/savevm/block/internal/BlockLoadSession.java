package org.savevm.block.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockMigrationStats;
import org.savevm.api.machine.Machine;
import org.savevm.block.codec.BlockFlags;
import org.savevm.block.codec.BlockRecord;
import org.savevm.block.codec.BlockRecordReader;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * The load side of the "block" section (QEMU 7.2's block_load): each chunk goes to the machine's drive of that
 * device name, through its image; the short last chunk writes only what is left of the device. A ZERO_BLOCK, and
 * a chunk whose data is all zeros, become {@link BlockImage#writeZeroes} (holes in raw, zero clusters in qcow2),
 * as QEMU writes zeroes with BDRV_REQ_MAY_UNMAP. Every error names the device and the record's byte offset.
 *
 * <p>Like QEMU's destination, the load does not flush the images when the stream ends: the chunks are in the
 * images (and the host's page cache), which the guest reads from; an fsync of a whole disk there cost seconds and
 * would only matter for a host crash right after the migration.
 */
final class BlockLoadSession implements LiveStateHandler.LoadSession, BlockMigrationStats {
    private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(BlockFlags.CHUNK_SIZE).asReadOnlyBuffer();

    /**
     * Writer threads. A chunk always goes to the writer of its index (modulo this), which writes in stream order, so
     * a later chunk of the same place lands last; chunks of different places are written in parallel, which keeps
     * several writes in flight when the image writes around the page cache (each such write waits for the device).
     */
    static final int WRITERS = 3;
    /** Chunk buffers: one being read from the stream while the others wait for or go through the writers. */
    static final int BUFFERS = 8;

    private final Machine machine;
    private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(BUFFERS);
    private final ExecutorService[] writers = new ExecutorService[WRITERS];
    private final ArrayDeque<Future<?>> writes = new ArrayDeque<>();
    private final Map<String, BlockDrive> used = new LinkedHashMap<>();
    private final Map<String, Long> sizes = new HashMap<>();
    /** Buffers of the pool allocated so far (by the loading thread only). */
    private int allocated;
    private volatile long transferred;
    private volatile int lastPercent = -1;

    BlockLoadSession(Machine machine) {
        this.machine = machine;
        for (int i = 0; i < WRITERS; i++) {
            String name = "savevm-block-write-" + (i + 1);
            writers[i] = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
        }
    }

    /** A free buffer; the pool's buffers are allocated as the first chunks need them (not in the section's setup). */
    private ByteBuffer takeBuffer() throws IOException {
        ByteBuffer buf = free.poll();
        if (buf != null) {
            return buf;
        }
        if (allocated < BUFFERS) {
            allocated++;
            return ChunkBuffers.allocate();
        }
        try {
            return free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("block: interrupted waiting for a buffer", e);
        }
    }

    @Override
    public void load(MigrationInput in, int version) throws IOException {
        while (true) {
            BlockRecord r = BlockRecordReader.read(in);
            if (r.deviceBlock()) {
                chunk(in, r);
            } else if (r.progress()) {
                lastPercent = r.percent();
            }
            if (r.eos()) {
                // The section's writes may still be in flight: the next section's chunks wait for free buffers,
                // a failed write stops the load at the next chunk, and complete() waits for the last ones before
                // the stream counts as loaded. (Waiting here stalled the stream at the end of every iteration.)
                return;
            }
        }
    }

    /** The whole stream has loaded: every write done, or the first failure thrown, before it counts as loaded. */
    @Override
    public void complete() throws IOException {
        while (!writes.isEmpty()) {
            finish(writes.poll());
        }
    }

    private static void finish(Future<?> w) throws IOException {
        try {
            w.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("block: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("block: interrupted waiting for a write", e);
        }
    }

    private void chunk(MigrationInput in, BlockRecord r) throws IOException {
        BlockDrive drive = used.get(r.device());
        if (drive == null) {
            drive = machine.drive(r.device()).orElseThrow(() -> new MigrationStreamException(
                    "block: unknown block device '" + r.device() + "'", r.at()));
            if (drive.readOnly()) {
                throw new MigrationStreamException("block: device '" + r.device() + "' is read-only", r.at());
            }
            used.put(r.device(), drive);
            sizes.put(r.device(), drive.size());
        }
        long size = sizes.get(r.device());
        BlockRecordReader.checkInside(r, size);
        int len = r.length(size);
        BlockImage image = drive.image();
        ByteBuffer buf = takeBuffer();
        boolean zeroBlock = r.zero();
        try {
            if (!zeroBlock) {
                buf.clear();
                BlockRecordReader.readData(in, r, buf);
                buf.position(0).limit(len);
            }
        } catch (IOException | RuntimeException e) {
            free.add(buf);
            throw e;
        }
        ExecutorService writer = writers[(int) ((r.offset() / BlockFlags.CHUNK_SIZE) % WRITERS)];
        writes.add(writer.submit(() -> {
            try {
                if (zeroBlock || buf.mismatch(ZERO.duplicate().limit(len)) < 0) {
                    image.writeZeroes(r.offset(), len);
                } else {
                    image.write(r.offset(), buf);
                }
            } catch (IOException e) {
                throw new MigrationStreamException(String.format("block: writing device '%s' at offset 0x%x "
                        + "failed: %s", r.device(), r.offset(), e.getMessage()), r.at(), e);
            } finally {
                free.add(buf);
            }
            return null;
        }));
        // a failed write stops the load at the next chunk, not only at the section's end
        while (!writes.isEmpty() && writes.peek().isDone()) {
            finish(writes.poll());
        }
        transferred += len;
    }

    /** The last progress the source reported, or -1. */
    int lastPercent() {
        return lastPercent;
    }

    /** load_cleanup: the writers stop once the writes they have are done. */
    @Override
    public void close() {
        for (ExecutorService w : writers) {
            w.shutdown();
        }
        try {
            for (ExecutorService w : writers) {
                w.awaitTermination(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public long transferred() {
        return transferred;
    }

    @Override
    public long remaining() {
        return lastPercent == 100 ? 0 : Math.max(0, total() - transferred);
    }

    @Override
    public long total() {
        long t = 0;
        for (BlockDrive d : machine.drives()) {
            if (!d.readOnly()) {
                t += d.size();
            }
        }
        return t;
    }
}
