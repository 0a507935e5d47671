package org.savevm.ram.internal;

import java.util.concurrent.atomic.AtomicIntegerArray;

import org.savevm.api.machine.RamBlock;
import org.savevm.ram.codec.RamFlags;

/**
 * A second thread that checks 64-page groups (256 KiB, one word of the migration bitmap) for zeros ahead
 * of the migration thread during the first pass. Checking a group costs a sweep of its memory; sending an
 * all-zero group costs 64 nine-byte records. With the sweep done on another core the migration thread
 * mostly only writes records, so a mostly-zero guest goes about twice as fast.
 *
 * <p>A result is used only if no dirty-log sync happened since the helper began to read the group: every
 * sync bumps the generation, and results carry the generation they were taken in. A guest write after
 * the read leaves its dirty bit in the log, so the page is sent again after the next sync, as with any
 * write made after a page was sent.
 */
final class ZeroScanAhead implements AutoCloseable {
    private static final int UNKNOWN = 0;
    private static final int CLAIMED = 1;
    private static final int ZERO = 2;
    private static final int DATA = 3;
    /** The migration thread waits this long for a group the helper is reading, then reads it itself. */
    private static final long WAIT_NANOS = 100_000L;
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;
    /** Where the helper resumes when the migration thread has caught up with it: 16 groups (4 MiB) on. */
    private static final int AHEAD_GROUPS = 16;
    private static final long GROUP_BYTES = 64L * PAGE;

    private final RamBlock[] blocks;
    /** Index of each block's first group in {@link #states}; one more entry holds the total. */
    private final int[] groupBase;
    /** Per group: (generation << 2) | UNKNOWN, CLAIMED, ZERO or DATA. */
    private final AtomicIntegerArray states;
    /** Written by the migration thread only. Starts at 1 so the zeroed array reads as "older". */
    private volatile int generation = 1;
    /** Global index of the group the migration thread is at: the helper stays ahead of it. */
    private volatile int migrationGroup = -1;
    private volatile boolean stopped;
    private Thread thread;

    ZeroScanAhead(RamBlock[] blocks) {
        this.blocks = blocks;
        this.groupBase = new int[blocks.length + 1];
        long total = 0;
        for (int i = 0; i < blocks.length; i++) {
            groupBase[i] = (int) total;
            total += blocks[i].usedLength() / GROUP_BYTES;
            if (total > Integer.MAX_VALUE / 2) {
                throw new IllegalArgumentException("RAM too large for the zero scan: " + total + " groups");
            }
        }
        groupBase[blocks.length] = (int) total;
        this.states = new AtomicIntegerArray((int) total);
    }

    /** Starts the helper thread once; it ends by itself after one sweep over every block. */
    synchronized void start() {
        if (thread == null && !stopped) {
            thread = new Thread(this::sweep, "savevm-ram-zero-scan");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** The dirty log was synced: every result taken so far may be stale. Migration thread only. */
    void invalidate() {
        generation = generation + 1;
    }

    /**
     * Whether the whole group {@code word} (64 pages from page {@code word * 64}) of block {@code block}
     * reads zero, from the helper's result when it has a current one. Migration thread only.
     */
    boolean groupIsZero(int block, int word) {
        int g = groupBase[block] + word;
        if (g >= groupBase[block + 1]) {
            return read(block, word);
        }
        migrationGroup = g;
        int tag = generation << 2;
        long waitedSince = 0;
        while (true) {
            int v = states.get(g);
            if ((v & ~3) == tag) {
                int s = v & 3;
                if (s == ZERO) {
                    return true;
                }
                if (s == DATA) {
                    return false;
                }
                // the helper is part way through this group: read one further on meanwhile, so that the two
                // threads share the sweep instead of one waiting for the other
                if (readAhead(block, g, tag)) {
                    continue;
                }
                long now = System.nanoTime();
                if (waitedSince == 0) {
                    waitedSince = now;
                } else if (now - waitedSince > WAIT_NANOS) {
                    return read(block, word);
                }
                Thread.onSpinWait();
            } else {
                int s = claimAndRead(block, g, v, tag);
                if (s != UNKNOWN) {
                    return s == ZERO;
                }
            }
        }
    }

    /** Reads the first unclaimed group of the next few in the same block; false when there is none. */
    private boolean readAhead(int block, int g, int tag) {
        int end = Math.min(groupBase[block + 1], g + 1 + AHEAD_GROUPS);
        for (int h = g + 1; h < end; h++) {
            int v = states.get(h);
            if ((v & ~3) != tag && claimAndRead(block, h, v, tag) != UNKNOWN) {
                return true;
            }
        }
        return false;
    }

    /**
     * Claims group {@code g} (global index, in {@code block}) if it still holds {@code seen}, reads it and
     * publishes the result under {@code tag}; ZERO or DATA, or UNKNOWN when another thread claimed it first.
     */
    private int claimAndRead(int block, int g, int seen, int tag) {
        if (!states.compareAndSet(g, seen, tag | CLAIMED)) {
            return UNKNOWN;
        }
        int s = read(block, g - groupBase[block]) ? ZERO : DATA;
        states.compareAndSet(g, tag | CLAIMED, tag | s);
        return s;
    }

    private boolean read(int block, int word) {
        long offset = (long) word * GROUP_BYTES;
        RamBlock b = blocks[block];
        return b.untouched(offset, 64) || b.isZero(offset, GROUP_BYTES);
    }

    /** The helper: every group once, in order, always ahead of the migration thread. */
    private void sweep() {
        int g = 0;
        int block = 0;
        while (!stopped) {
            int m = migrationGroup;
            if (g <= m) {
                // overtaken: jump a stretch ahead, so the two threads read different groups instead of
                // taking turns on the same one
                g = m + AHEAD_GROUPS;
            }
            if (g >= groupBase[blocks.length]) {
                return;
            }
            while (g >= groupBase[block + 1]) {
                block++;
            }
            int tag = generation << 2;
            int v = states.get(g);
            if ((v & ~3) != tag) {
                claimAndRead(block, g, v, tag);
            }
            g++;
        }
    }

    /** Waits for the helper's one sweep to end (tests). */
    boolean awaitSweep(long millis) throws InterruptedException {
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.join(millis);
        }
        return t != null && !t.isAlive();
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            stopped = true;
            t = thread;
        }
        if (t != null) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
