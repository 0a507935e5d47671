package org.savevm.block.internal;

import java.io.IOException;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import org.savevm.api.block.BlockDrive;
import org.savevm.api.migration.GuestControl;
import org.savevm.block.testing.Disks;

/**
 * A guest that, while running, keeps writing to a drive from its own thread (when given one); {@link #stop()}
 * returns once it no longer writes, as the orchestrator's contract says.
 */
final class WritingGuest implements GuestControl {
    private final BlockDrive drive;
    private final Object lock = new Object();
    private volatile boolean running;
    private Thread writer;
    final AtomicInteger writes = new AtomicInteger();
    volatile IOException failure;

    WritingGuest(BlockDrive drive, boolean running) {
        this.drive = drive;
        if (running) {
            start();
        }
    }

    @Override
    public boolean running() {
        return running;
    }

    @Override
    public void stop() {
        Thread t;
        synchronized (lock) {
            running = false;
            t = writer;
            writer = null;
        }
        if (t != null) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void start() {
        synchronized (lock) {
            running = true;
            if (drive != null && writer == null) {
                writer = new Thread(() -> {
                    Random rnd = new Random(writes.get());
                    while (running) {
                        try {
                            Disks.guestWrites(drive, rnd, 1);
                            writes.incrementAndGet();
                            Thread.sleep(1);
                        } catch (IOException e) {
                            failure = e;
                            return;
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "test-guest-disk-writer");
                writer.start();
            }
        }
    }

    @Override
    public void setThrottlePercent(int percent) {
    }
}
