package org.savevm.machine.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;

/**
 * Plays the guest: while running it writes {@code dirtyBytesPerSecond} bytes per second (of the time its clock says
 * has passed) into the main RAM block (pc.ram, else the biggest). Throttling (auto-converge) shortens each slice's
 * budget the way QEMU's CPU throttle takes a share of the vCPU's time.
 *
 * <p>The time source comes in through the constructor, and {@link #writeDue} does one slice's writes; in a machine
 * {@link #start} adds the daemon thread that calls it every 10 ms on the host's clock, while a test drives it with a
 * clock it advances by hand, so what it checks does not depend on how the host schedules threads.
 */
public final class WorkloadGenerator implements GuestWorkload, AutoCloseable {
    static final long SLICE_NANOS = 10_000_000L;
    /**
     * The most time one slice makes up for: a guest that the host did not schedule for longer (a GC pause, a
     * loaded machine) does not write a burst afterwards, as a descheduled vCPU would not.
     */
    static final long MAX_SLICE_NANOS = 5 * SLICE_NANOS;

    /** Bytes per guest disk write: one 4 KiB block, as a file system in the guest writes. */
    static final int DISK_WRITE_SIZE = 4096;

    private final RamBlock target;
    /** The disks the guest writes to (none: RAM only). */
    private final List<MachineDrive> drives;
    private final ByteBuffer diskData = ByteBuffer.allocate(DISK_WRITE_SIZE);
    private final AtomicLong diskBytesWritten = new AtomicLong();
    private volatile long diskBytesPerSecond;
    /** The first failed guest disk write; the guest then stops writing to its disks (QEMU's werror=stop spirit). */
    private volatile IOException diskError;
    private final LongSupplier nanoClock;
    /** Held while a slice writes: pause() takes it to wait for the slice in progress. */
    private final ReentrantLock sliceLock = new ReentrantLock();
    private final Object wake = new Object();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final SplittableRandom rnd;
    private final byte[] data = new byte[RamBlock.TARGET_PAGE_SIZE];
    private volatile Thread thread;
    private volatile WorkloadSpec spec;
    private volatile boolean running;
    private volatile boolean closed;
    private volatile int throttlePercent;
    /** Guarded by sliceLock: the clock at the end of the last slice, and the budget not yet written. */
    private long lastSliceNanos;
    private double carry;
    private double diskCarry;

    /**
     * A paused generator on {@code nanoClock} (monotonic nanoseconds, like {@link System#nanoTime}); nothing writes
     * until it is resumed and either {@link #start} runs its thread or the caller calls {@link #writeDue}.
     */
    public WorkloadGenerator(List<RamBlock> blocks, WorkloadSpec spec, LongSupplier nanoClock) {
        this(blocks, List.of(), 0, spec, nanoClock);
    }

    /**
     * As {@link #WorkloadGenerator(List, WorkloadSpec, LongSupplier)}, and the guest also writes
     * {@code diskBytesPerSecond} bytes per second in 4 KiB blocks at random offsets of its writable {@code drives}.
     */
    public WorkloadGenerator(List<RamBlock> blocks, List<MachineDrive> drives, long diskBytesPerSecond,
            WorkloadSpec spec, LongSupplier nanoClock) {
        this.drives = drives.stream().filter(d -> !d.readOnly() && d.size() >= DISK_WRITE_SIZE).toList();
        setDiskDirtyRate(diskBytesPerSecond);
        this.target = blocks.stream().filter(b -> b.idstr().equals("pc.ram")).findFirst().orElse(blocks.get(0));
        this.spec = Objects.requireNonNull(spec);
        this.nanoClock = Objects.requireNonNull(nanoClock);
        this.rnd = new SplittableRandom(spec.seed());
        this.lastSliceNanos = nanoClock.getAsLong();
    }

    /** Starts the daemon thread that runs a slice every 10 ms of the clock while the guest runs; once only. */
    public synchronized WorkloadGenerator start(String threadName) {
        if (thread != null) {
            throw new IllegalStateException("workload generator " + thread.getName() + " already started");
        }
        thread = new Thread(this::loop, threadName);
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    @Override
    public WorkloadSpec spec() {
        return spec;
    }

    @Override
    public void configure(WorkloadSpec spec) {
        this.spec = Objects.requireNonNull(spec);
    }

    /** Guest disk writes per second, in bytes (0: the guest does not write to its disks). */
    public void setDiskDirtyRate(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("negative disk dirty rate " + bytesPerSecond);
        }
        this.diskBytesPerSecond = bytesPerSecond;
    }

    public long diskDirtyRate() {
        return diskBytesPerSecond;
    }

    /** Bytes the guest wrote to its disks since the machine started. */
    public long diskBytesWritten() {
        return diskBytesWritten.get();
    }

    /** The guest disk write that failed, if one did. */
    public Optional<IOException> diskError() {
        return Optional.ofNullable(diskError);
    }

    @Override
    public void resume() {
        sliceLock.lock();
        try {
            // The time spent paused is no guest time: the first slice counts from here.
            lastSliceNanos = nanoClock.getAsLong();
            running = true;
        } finally {
            sliceLock.unlock();
        }
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

    /**
     * One slice: writes what the running guest writes in the time the clock moved since the last slice (at most
     * {@link #MAX_SLICE_NANOS}), less the throttled share; the fraction of a write left over carries to the next
     * slice. Does nothing while paused.
     */
    void writeDue() {
        sliceLock.lock();
        try {
            long now = nanoClock.getAsLong();
            long elapsed = Math.min(Math.max(0, now - lastSliceNanos), MAX_SLICE_NANOS);
            lastSliceNanos = now;
            if (!running || closed) {
                return;
            }
            WorkloadSpec s = spec;
            carry += s.dirtyBytesPerSecond() * (elapsed / 1e9) * (100 - throttlePercent) / 100.0;
            while (carry >= s.writeSize() && running && !closed) {
                carry -= writeOnce(s);
            }
            if (!drives.isEmpty() && diskError == null) {
                diskCarry += diskBytesPerSecond * (elapsed / 1e9) * (100 - throttlePercent) / 100.0;
                while (diskCarry >= DISK_WRITE_SIZE && running && !closed && diskError == null) {
                    diskCarry -= DISK_WRITE_SIZE;
                    writeDiskOnce(s);
                }
            } else {
                diskCarry = 0;
            }
        } finally {
            sliceLock.unlock();
        }
    }

    private void loop() {
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
            long start = nanoClock.getAsLong();
            writeDue();
            long left = SLICE_NANOS - (nanoClock.getAsLong() - start);
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
    private int writeOnce(WorkloadSpec s) {
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

    /** One 4 KiB guest disk write at a random aligned offset of a random drive, hot set as for RAM. */
    private void writeDiskOnce(WorkloadSpec s) {
        MachineDrive d = drives.get(drives.size() == 1 ? 0 : rnd.nextInt(drives.size()));
        long blocks = d.size() / DISK_WRITE_SIZE;
        long hot = Math.max(1, (long) (blocks * s.hotFraction()));
        long block = rnd.nextDouble() < s.locality() ? rnd.nextLong(hot) : rnd.nextLong(blocks);
        diskData.clear();
        while (diskData.hasRemaining()) {
            diskData.putLong(rnd.nextLong());
        }
        diskData.flip();
        try {
            d.write(block * DISK_WRITE_SIZE, diskData);
            diskBytesWritten.addAndGet(DISK_WRITE_SIZE);
        } catch (IOException e) {
            diskError = e;
        }
    }

    @Override
    public void close() {
        closed = true;
        running = false;
        synchronized (wake) {
            wake.notifyAll();
        }
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null) {
            return;
        }
        t.interrupt();
        try {
            t.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
