package org.savevm.migration;

import java.util.concurrent.atomic.AtomicInteger;

import org.savevm.api.migration.GuestControl;

/** A guest that only remembers what was done to it. */
public final class FakeGuest implements GuestControl {
    volatile boolean running;
    volatile int throttle;
    final AtomicInteger stops = new AtomicInteger();
    final AtomicInteger starts = new AtomicInteger();

    public FakeGuest(boolean running) {
        this.running = running;
    }

    @Override
    public boolean running() {
        return running;
    }

    @Override
    public void stop() {
        stops.incrementAndGet();
        running = false;
    }

    @Override
    public void start() {
        starts.incrementAndGet();
        running = true;
    }

    @Override
    public void setThrottlePercent(int percent) {
        throttle = percent;
    }

    @Override
    public int throttlePercent() {
        return throttle;
    }
}
