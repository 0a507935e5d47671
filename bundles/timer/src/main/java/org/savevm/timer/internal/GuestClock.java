package org.savevm.timer.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import org.savevm.api.GuestTimer;

/**
 * QEMU_CLOCK_VIRTUAL with QEMU's offset bookkeeping (cpu_enable_ticks / cpu_disable_ticks): while
 * stopped, {@code clockOffset} is the clock value; while running, the clock is host time plus
 * {@code clockOffset}. Ticks work the same way over the host tick source. Armed {@link GuestTimer}s
 * fire on one scheduler thread, owned by this object, when the virtual clock reaches their expiry.
 */
final class GuestClock {
    private final LongSupplier hostNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final TreeSet<Timer> armed = new TreeSet<>((a, b) -> {
        int c = Long.compare(a.expire, b.expire);
        return c != 0 ? c : Long.compare(a.seq, b.seq);
    });
    private final AtomicLong seqs = new AtomicLong();
    private long clockOffset;
    private long ticksOffset;
    private boolean running;
    private boolean shutdown;
    private Thread thread;

    GuestClock(LongSupplier hostNanos) {
        this.hostNanos = hostNanos;
    }

    /** Starts the scheduler thread. */
    void open(String threadName) {
        lock.lock();
        try {
            thread = new Thread(this::schedule, threadName);
            thread.setDaemon(true);
            thread.start();
        } finally {
            lock.unlock();
        }
    }

    /** Stops the scheduler thread and waits for it; armed timers stay armed but never fire. */
    void close() throws InterruptedException {
        Thread t;
        lock.lock();
        try {
            shutdown = true;
            changed.signalAll();
            t = thread;
        } finally {
            lock.unlock();
        }
        if (t != null && t != Thread.currentThread()) {
            t.join(5000);
        }
    }

    /** True while the scheduler thread runs (for tests of the component life cycle). */
    boolean schedulerAlive() {
        Thread t = thread;
        return t != null && t.isAlive();
    }

    long nowNs() {
        lock.lock();
        try {
            return running ? hostNanos.getAsLong() + clockOffset : clockOffset;
        } finally {
            lock.unlock();
        }
    }

    long ticks() {
        lock.lock();
        try {
            return running ? hostNanos.getAsLong() + ticksOffset : ticksOffset;
        } finally {
            lock.unlock();
        }
    }

    boolean running() {
        lock.lock();
        try {
            return running;
        } finally {
            lock.unlock();
        }
    }

    /** cpu_disable_ticks: freeze clock and ticks at their current values. */
    void stop() {
        lock.lock();
        try {
            if (running) {
                long host = hostNanos.getAsLong();
                clockOffset += host;
                ticksOffset += host;
                running = false;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** cpu_enable_ticks: continue from the frozen values. */
    void start() {
        lock.lock();
        try {
            if (!running) {
                long host = hostNanos.getAsLong();
                clockOffset -= host;
                ticksOffset -= host;
                running = true;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The migrated values: what QEMU's offsets hold while stopped. */
    void snapshot(TimersState into) {
        lock.lock();
        try {
            long host = running ? hostNanos.getAsLong() : 0;
            into.cpuClockOffset = clockOffset + host;
            into.cpuTicksOffset = ticksOffset + host;
        } finally {
            lock.unlock();
        }
    }

    /** Sets clock and ticks to loaded values, keeping the run state. */
    void restore(TimersState from) {
        lock.lock();
        try {
            long host = running ? hostNanos.getAsLong() : 0;
            clockOffset = from.cpuClockOffset - host;
            ticksOffset = from.cpuTicksOffset - host;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    GuestTimer newTimer(Runnable callback) {
        return new Timer(callback, seqs.incrementAndGet());
    }

    private void schedule() {
        List<Timer> due = new ArrayList<>();
        while (true) {
            lock.lock();
            try {
                while (due.isEmpty()) {
                    if (shutdown) {
                        return;
                    }
                    if (!running || armed.isEmpty()) {
                        changed.awaitUninterruptibly();
                        continue;
                    }
                    long now = hostNanos.getAsLong() + clockOffset;
                    Timer first = armed.first();
                    if (first.expire <= now) {
                        // like timerlist_run_timers: taken off the list before its callback runs
                        while (!armed.isEmpty() && armed.first().expire <= now) {
                            Timer t = armed.pollFirst();
                            t.expire = -1;
                            due.add(t);
                        }
                    } else {
                        try {
                            changed.awaitNanos(first.expire - now);
                        } catch (InterruptedException e) {
                            if (shutdown) {
                                return;
                            }
                        }
                    }
                }
            } finally {
                lock.unlock();
            }
            for (Timer t : due) {
                try {
                    t.callback.run();
                } catch (RuntimeException e) {
                    // a failing device callback must not stop every other timer
                    System.getLogger(GuestClock.class.getName()).log(System.Logger.Level.WARNING,
                            "guest timer callback failed", e);
                }
            }
            due.clear();
        }
    }

    /** A timer on this clock; its expiry is guarded by the clock's lock. */
    private final class Timer implements GuestTimer {
        private final Runnable callback;
        private final long seq;
        private long expire = -1;

        Timer(Runnable callback, long seq) {
            this.callback = callback;
            this.seq = seq;
        }

        @Override
        public long expireTimeNs() {
            lock.lock();
            try {
                return expire;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void setExpireTimeNs(long expireNs) {
            lock.lock();
            try {
                if (expire != -1) {
                    armed.remove(this);
                }
                expire = expireNs;
                if (expireNs != -1) {
                    armed.add(this);
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }
}
