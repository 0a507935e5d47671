package org.savevm.demo.commands;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;

/**
 * The destination's vCPU during postcopy: reads random pages of the largest RAM block, each read of a page
 * not there yet faulting into a page request and waiting for it. It only reads, so the RAM the demo
 * compares stays the source's; with postcopy-blocktime its waits are what the destination reports.
 * <p>
 * It also times every read of a page that was missing when the read began: the wait from the guest access
 * through the page request until the page is placed, the page-request latency bench/postcopy_bench.py compares
 * with QEMU's. At most {@link #MAX_SAMPLES} are kept (bounded memory); later ones only count.
 */
final class PostcopyVcpu {
    private final Machine machine;
    private final long seed;
    static final int MAX_SAMPLES = 1 << 18;
    private volatile long[] faultNanos; // allocated when the reads start: only postcopy runs need it
    private volatile int faults;
    private volatile boolean running;
    private volatile long reads;
    private volatile String failure;
    private Thread thread;

    PostcopyVcpu(Machine machine, long seed) {
        this.machine = machine;
        this.seed = seed;
    }

    synchronized void start() {
        if (thread != null) {
            return;
        }
        RamBlock largest = null;
        for (RamBlock b : machine.ramBlocks()) {
            if (largest == null || b.usedLength() > largest.usedLength()) {
                largest = b;
            }
        }
        if (largest == null) {
            return;
        }
        RamBlock block = largest;
        running = true;
        thread = new Thread(() -> run(block), "postcopy-vcpu");
        thread.setDaemon(true);
        thread.start();
    }

    private void run(RamBlock block) {
        Random rnd = new Random(seed);
        long[] samples = new long[MAX_SAMPLES];
        faultNanos = samples;
        byte[] buf = new byte[64];
        long pages = block.pages();
        try {
            while (running) {
                long off = rnd.nextLong(pages) * RamBlock.TARGET_PAGE_SIZE;
                boolean missing = block.pageMissing(off);
                long t0 = System.nanoTime();
                block.read(off, buf, 0, buf.length);
                if (missing) {
                    long waited = System.nanoTime() - t0;
                    int n = faults;
                    if (n < MAX_SAMPLES) {
                        samples[n] = waited;
                    }
                    faults = n + 1;
                }
                reads++;
            }
        } catch (RuntimeException e) {
            failure = e.getMessage();
        }
    }

    /** Ends the reads without waiting (the read in progress may still wait for its page). */
    void halt() {
        running = false;
    }

    /** Ends the reads and waits a little for the last one. */
    void stop() {
        running = false;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    synchronized boolean started() {
        return thread != null;
    }

    long reads() {
        return reads;
    }

    /**
     * The waits of reads that found their page missing, in microseconds: count, p50, p99, max (null before
     * any). Call after {@link #stop()}.
     */
    Map<String, Object> faultLatencyMicros() {
        int n = Math.min(faults, MAX_SAMPLES);
        if (n == 0 || faultNanos == null) {
            return null;
        }
        long[] sorted = Arrays.copyOf(faultNanos, n);
        Arrays.sort(sorted);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", faults);
        m.put("p50", sorted[(int) Math.min(n - 1, (long) Math.ceil(n * 0.50) - 1)] / 1000);
        m.put("p99", sorted[(int) Math.min(n - 1, (long) Math.ceil(n * 0.99) - 1)] / 1000);
        m.put("max", sorted[n - 1] / 1000);
        return m;
    }

    String failure() {
        return failure;
    }
}
