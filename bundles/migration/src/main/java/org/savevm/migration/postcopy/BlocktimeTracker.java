package org.savevm.migration.postcopy;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.savevm.api.migration.PostcopyBlocktime;

/**
 * QEMU's postcopy blocktime context (postcopy-ram.c, capability postcopy-blocktime): how long each vCPU waited
 * for postcopy pages, and how long all of them waited at once (the time the guest made no progress at all).
 * A vCPU here is a guest thread that faulted, numbered in the order of its first fault; at most
 * {@link #MAX_VCPUS} are told apart (QEMU sizes its arrays by smp.cpus), later ones count only in the total.
 * Thread-safe.
 */
public final class BlocktimeTracker {
    static final int MAX_VCPUS = 256;

    private final LongSupplier nanoClock;
    private final Map<Thread, Integer> index = new IdentityHashMap<>();
    private final List<Long> vcpuNanos = new ArrayList<>();
    private final List<Boolean> blocked = new ArrayList<>();
    private int blockedCount;
    private long allBlockedSince = -1;
    private long totalNanos;

    public BlocktimeTracker(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    private int vcpu(Thread t) {
        Integer i = index.get(t);
        if (i == null) {
            if (index.size() >= MAX_VCPUS) {
                return -1;
            }
            i = index.size();
            index.put(t, i);
            vcpuNanos.add(0L);
            blocked.add(false);
        }
        return i;
    }

    /** mark_postcopy_blocktime_begin: the calling guest thread waits for a page from now. */
    public synchronized void faultBegin() {
        int i = vcpu(Thread.currentThread());
        if (i < 0 || blocked.get(i)) {
            return;
        }
        blocked.set(i, true);
        blockedCount++;
        if (blockedCount == index.size()) {
            allBlockedSince = nanoClock.getAsLong();
        }
    }

    /** mark_postcopy_blocktime_end: the calling thread's page arrived after {@code waitedNanos}. */
    public synchronized void faultEnd(long waitedNanos) {
        int i = vcpu(Thread.currentThread());
        if (i < 0 || !blocked.get(i)) {
            return;
        }
        if (allBlockedSince >= 0) {
            totalNanos += nanoClock.getAsLong() - allBlockedSince;
            allBlockedSince = -1;
        }
        blocked.set(i, false);
        blockedCount--;
        vcpuNanos.set(i, vcpuNanos.get(i) + waitedNanos);
    }

    /** The measurement so far, in ms as query-migrate has it. */
    public synchronized PostcopyBlocktime snapshot() {
        long total = totalNanos + (allBlockedSince >= 0 ? nanoClock.getAsLong() - allBlockedSince : 0);
        List<Long> ms = new ArrayList<>(vcpuNanos.size());
        for (long n : vcpuNanos) {
            ms.add(TimeUnit.NANOSECONDS.toMillis(n));
        }
        return new PostcopyBlocktime(TimeUnit.NANOSECONDS.toMillis(total), ms);
    }
}
