package org.savevm.ram.internal.compress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.DataFormatException;

import org.savevm.api.machine.RamBlock;
import org.savevm.ram.codec.PageCompression;
import org.savevm.stream.MigrationStreamException;

/**
 * The receiver's decompression threads ({@code decompress-threads}). Each job owns a copy of the
 * compressed bytes and inflates into the guest page; {@link #waitAll} (at the end of each section, and
 * before a page with a job in flight is written again) reports the first failure with its stream offset.
 */
public final class DecompressPool implements AutoCloseable {
    private final ExecutorService executor;
    private final BlockingQueue<Job> idle;
    private final Phaser inFlight = new Phaser(1);
    private final AtomicReference<MigrationStreamException> failure = new AtomicReference<>();
    private final ThreadLocal<PageCompression> inflater;
    private final List<PageCompression> created = new ArrayList<>();

    private static final class Job {
        final byte[] in = new byte[PageCompression.MAX_COMPRESSED];
        final byte[] page = new byte[RamBlock.TARGET_PAGE_SIZE];
        int len;
        ByteBuffer target;
        long streamOffset;
        String where;
        Runnable onPlaced;
    }

    public DecompressPool(int threads, String name) {
        if (threads < 1 || threads > 255) {
            throw new IllegalArgumentException("decompress-threads must be 1..255: " + threads);
        }
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.idle = new ArrayBlockingQueue<>(threads * 2);
        for (int i = 0; i < threads * 2; i++) {
            idle.add(new Job());
        }
        this.inflater = ThreadLocal.withInitial(() -> {
            PageCompression c = new PageCompression(1);
            synchronized (created) {
                created.add(c);
            }
            return c;
        });
    }

    /** A job buffer to read the compressed bytes into; blocks while every buffer is in use. */
    public Object reserve() throws IOException {
        try {
            return idle.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for a decompression thread", e);
        }
    }

    /** The buffer of a reserved job. */
    public static byte[] buffer(Object job) {
        return ((Job) job).in;
    }

    /**
     * Starts inflating {@code len} bytes of the reserved job into {@code target} (a writable page view);
     * {@code onPlaced} (may be null) runs on the worker once the page holds its data.
     */
    public void start(Object reserved, int len, ByteBuffer target, long streamOffset, String where,
            Runnable onPlaced) {
        Job job = (Job) reserved;
        job.onPlaced = onPlaced;
        job.len = len;
        job.target = target;
        job.streamOffset = streamOffset;
        job.where = where;
        inFlight.register();
        executor.execute(() -> {
            try {
                int n = inflater.get().decompress(job.in, job.len, job.page, RamBlock.TARGET_PAGE_SIZE);
                job.target.put(0, job.page, 0, n);
                if (job.onPlaced != null) {
                    job.onPlaced.run();
                }
            } catch (DataFormatException | RuntimeException e) {
                failure.compareAndSet(null, new MigrationStreamException("decompress data failed for " + job.where
                        + ": " + e.getMessage(), job.streamOffset));
            } finally {
                job.target = null;
                job.onPlaced = null;
                idle.add(job);
                inFlight.arriveAndDeregister();
            }
        });
    }

    /** Waits for every job; throws the first failure. */
    public void waitAll() throws IOException {
        int phase = inFlight.arrive();
        try {
            inFlight.awaitAdvanceInterruptibly(phase);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for decompression", e);
        }
        MigrationStreamException e = failure.get();
        if (e != null) {
            throw e;
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (created) {
            for (PageCompression c : created) {
                c.close();
            }
        }
    }
}
