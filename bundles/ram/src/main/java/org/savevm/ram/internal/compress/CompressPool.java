package org.savevm.ram.internal.compress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.savevm.api.machine.RamBlock;
import org.savevm.ram.codec.PageCompression;
import org.savevm.ram.internal.ZeroPages;

/**
 * The sender's compression threads ({@code compress-threads}, {@code compress-level}). A page is copied
 * when submitted (the guest may change it meanwhile, as QEMU copies it into the thread's buffer) and
 * compressed on a worker; results reach the stream on the migration thread, oldest first, when a worker
 * is needed again or on {@link #flush}. At most one job per thread is in flight, as in QEMU.
 *
 * <p>The caller flushes before leaving a block, so every record drained here belongs to the block that
 * the last record in the stream named: their CONTINUE flag is always right.
 */
public final class CompressPool<B> implements AutoCloseable {
    private final ExecutorService executor;
    private final int threads;
    private final boolean waitForThread;
    private final ThreadLocal<PageCompression> compression;
    private final List<PageCompression> created = new ArrayList<>();
    private final ArrayDeque<Job<B>> inFlight = new ArrayDeque<>();
    private final ArrayDeque<Job<B>> idle = new ArrayDeque<>();

    private static final class Job<B> {
        final byte[] page = new byte[RamBlock.TARGET_PAGE_SIZE];
        final byte[] out = new byte[PageCompression.MAX_COMPRESSED];
        B block;
        long offset;
        int len; // -1: zero page
        Future<?> future;
    }

    public CompressPool(int threads, int level, boolean waitForThread, String name) {
        if (threads < 1 || threads > 255) {
            throw new IllegalArgumentException("compress-threads must be 1..255: " + threads);
        }
        new PageCompression(level).close(); // validates the level before threads start
        this.threads = threads;
        this.waitForThread = waitForThread;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.compression = ThreadLocal.withInitial(() -> {
            PageCompression c = new PageCompression(level);
            synchronized (created) {
                created.add(c);
            }
            return c;
        });
        for (int i = 0; i < threads; i++) {
            idle.add(new Job<>());
        }
    }

    /**
     * Queues one page. Returns false when every thread is busy and {@code compress-wait-thread} is off:
     * the caller then sends the page uncompressed (QEMU counts that as "busy").
     */
    public boolean submit(B block, long offset, ByteBuffer page, CompressedPageSink<B> sink) throws IOException {
        if (idle.isEmpty()) {
            Job<B> oldest = inFlight.peekFirst();
            if (!waitForThread && !oldest.future.isDone()) {
                return false;
            }
            drainOne(sink);
        }
        Job<B> job = idle.poll();
        job.block = block;
        job.offset = offset;
        page.duplicate().get(job.page, 0, RamBlock.TARGET_PAGE_SIZE);
        job.future = executor.submit(() -> run(job));
        inFlight.addLast(job);
        return true;
    }

    private void run(Job<B> job) {
        if (ZeroPages.isZero(job.page, 0, RamBlock.TARGET_PAGE_SIZE)) {
            job.len = -1;
            return;
        }
        job.len = compression.get().compress(job.page, 0, RamBlock.TARGET_PAGE_SIZE, job.out);
    }

    private void drainOne(CompressedPageSink<B> sink) throws IOException {
        Job<B> job = inFlight.pollFirst();
        try {
            job.future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for a compression thread", e);
        } catch (ExecutionException e) {
            throw new IOException("compressed data failed: " + e.getCause(), e.getCause());
        }
        try {
            if (job.len < 0) {
                sink.zeroPage(job.block, job.offset);
            } else {
                sink.compressedPage(job.block, job.offset, job.out, job.len);
            }
        } finally {
            job.block = null;
            idle.add(job);
        }
    }

    /** Writes every pending result (QEMU's flush_compressed_data). */
    public void flush(CompressedPageSink<B> sink) throws IOException {
        while (!inFlight.isEmpty()) {
            drainOne(sink);
        }
    }

    public boolean hasPending() {
        return !inFlight.isEmpty();
    }

    public int threads() {
        return threads;
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
            created.clear();
        }
    }
}
