package org.savevm.testing;

import java.util.ArrayList;
import java.util.List;

import org.savevm.api.GuestTimer;
import org.savevm.api.VirtualClock;

/**
 * A virtual clock the test advances by hand; due timers fire in expiry order, on the thread that calls
 * {@link #advance}, so a test sees every timer's effect as soon as advance returns.
 */
public final class ManualClock implements VirtualClock {
    private long now;
    private final List<Timer> timers = new ArrayList<>();

    public ManualClock(long start) {
        this.now = start;
    }

    @Override
    public long nowNs() {
        return now;
    }

    @Override
    public boolean running() {
        return true;
    }

    @Override
    public void stop() {
    }

    @Override
    public void start() {
    }

    @Override
    public GuestTimer newTimer(Runnable callback) {
        Timer t = new Timer(callback);
        timers.add(t);
        return t;
    }

    /** Moves the clock {@code ns} forward, firing each timer that falls due on the way at its own expiry time. */
    public void advance(long ns) {
        long end = now + ns;
        while (true) {
            Timer next = null;
            for (Timer t : timers) {
                if (t.expiry != -1 && t.expiry <= end && (next == null || t.expiry < next.expiry)) {
                    next = t;
                }
            }
            if (next == null) {
                break;
            }
            now = Math.max(now, next.expiry);
            next.expiry = -1;
            next.callback.run();
        }
        now = end;
    }

    private static final class Timer implements GuestTimer {
        final Runnable callback;
        long expiry = -1;

        Timer(Runnable callback) {
            this.callback = callback;
        }

        @Override
        public long expireTimeNs() {
            return expiry;
        }

        @Override
        public void setExpireTimeNs(long expireNs) {
            expiry = expireNs;
        }
    }
}
