package org.savevm.demo.commands;

import java.util.Random;

import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;

/**
 * The destination's vCPU during postcopy: reads random pages of the largest RAM block, each read of a page
 * not there yet faulting into a page request and waiting for it. It only reads, so the RAM the demo
 * compares stays the source's; with postcopy-blocktime its waits are what the destination reports.
 */
final class PostcopyVcpu {
    private final Machine machine;
    private final long seed;
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
        byte[] buf = new byte[64];
        long pages = block.pages();
        try {
            while (running) {
                long off = rnd.nextLong(pages) * RamBlock.TARGET_PAGE_SIZE;
                block.read(off, buf, 0, buf.length);
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

    String failure() {
        return failure;
    }
}
