package org.savevm.machine.internal;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;

/**
 * Plays the guest: a daemon thread that, while running, writes {@code dirtyBytesPerSecond} bytes per
 * second into the main RAM block (pc.ram, else the biggest) in 10 ms slices. Throttling (auto-converge) shortens each slice's
 * budget the way QEMU's CPU throttle takes a share of the vCPU's time.
 */
public final class WorkloadGenerator implements GuestWorkload, AutoCloseable {
    private static final long SLICE_NANOS = 10_000_000L;

    private final RamBlock target;
    private final Thread thread;
    /** Held while a slice writes: pause() takes it to wait for the slice in progress. */
    private final ReentrantLock sliceLock = new ReentrantLock();
    private final Object wake = new Object();
    private final AtomicLong bytesWritten = new AtomicLong();
    private volatile WorkloadSpec spec;
    private volatile boolean running;
    private volatile boolean closed;
    private volatile int throttlePercent;

    public WorkloadGenerator(List<RamBlock> blocks, WorkloadSpec spec, String name) {
        this.target = blocks.stream().filter(b -> b.idstr().equals("pc.ram")).findFirst().orElse(blocks.get(0));
        this.spec = spec;
        this.thread = new Thread(this::loop, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    @Override
    public WorkloadSpec spec() {
        return spec;
    }

    @Override
    public void configure(WorkloadSpec spec) {
        this.spec = java.util.Objects.requireNonNull(spec);
    }

    @Override
    public void resume() {
        running = true;
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    @Override
    public void pause() {
        running = false;
        if (Thread.currentThread() != thread) {
            sliceLock.lock();
            sliceLock.unlock();
        }
    }

    @Override
    public boolean running() {
        return running;
    }

    @Override
    public void setThrottlePercent(int percent) {
        if (percent < 0 || percent > 99) {
            throw new IllegalArgumentException("throttle must be 0..99 %: " + percent);
        }
        throttlePercent = percent;
    }

    @Override
    public int throttlePercent() {
        return throttlePercent;
    }

    @Override
    public long bytesWritten() {
        return bytesWritten.get();
    }

    private void loop() {
        WorkloadSpec seeded = spec;
        SplittableRandom rnd = new SplittableRandom(seeded.seed());
        byte[] data = new byte[RamBlock.TARGET_PAGE_SIZE];
        double carry = 0;
        while (!closed) {
            if (!running) {
                synchronized (wake) {
                    while (!running && !closed) {
                        try {
                            wake.wait(100);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
                continue;
            }
            long start = System.nanoTime();
            WorkloadSpec s = spec;
            carry += s.dirtyBytesPerSecond() * (SLICE_NANOS / 1e9) * (100 - throttlePercent) / 100.0;
            sliceLock.lock();
            try {
                while (carry >= s.writeSize() && running && !closed) {
                    carry -= writeOnce(s, rnd, data);
                }
            } finally {
                sliceLock.unlock();
            }
            long left = SLICE_NANOS - (System.nanoTime() - start);
            if (left > 0) {
                try {
                    Thread.sleep(left / 1_000_000L, (int) (left % 1_000_000L));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** One guest write; returns the bytes it counts for. */
    private int writeOnce(WorkloadSpec s, SplittableRandom rnd, byte[] data) {
        long pages = target.pages();
        long hotPages = Math.max(1, (long) (pages * s.hotFraction()));
        long page = rnd.nextDouble() < s.locality() ? rnd.nextLong(hotPages) : rnd.nextLong(pages);
        long base = page * RamBlock.TARGET_PAGE_SIZE;
        if (rnd.nextDouble() < s.zeroShare()) {
            target.fill(base, RamBlock.TARGET_PAGE_SIZE, (byte) 0);
            bytesWritten.addAndGet(RamBlock.TARGET_PAGE_SIZE);
            return s.writeSize();
        }
        int len = s.writeSize();
        int at = len == RamBlock.TARGET_PAGE_SIZE ? 0 : rnd.nextInt(RamBlock.TARGET_PAGE_SIZE - len + 1);
        for (int i = 0; i < len; i += 8) {
            long v = rnd.nextLong();
            for (int k = 0; k < 8 && i + k < len; k++) {
                data[i + k] = (byte) (v >>> (k * 8));
            }
        }
        target.write(base + at, data, 0, len);
        bytesWritten.addAndGet(len);
        return len;
    }

    @Override
    public void close() {
        closed = true;
        running = false;
        synchronized (wake) {
            wake.notifyAll();
        }
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
