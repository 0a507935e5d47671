package org.savevm.migration.state;

import java.util.concurrent.TimeUnit;

import org.savevm.api.migration.MigrationStatus;

/**
 * The state of one migration (QEMU's {@code s->state} / {@code mis->state}): starts at none and moves only
 * along its {@link MigrationTransitions} table. Moves are compare-and-set as QEMU's migrate_set_state, so
 * a cancel that came in between makes the migration thread's next move fail instead of overwriting it;
 * a move the table does not have is a bug and is refused with an exception.
 */
public final class MigrationStateMachine {
    private final MigrationTransitions table;
    private final Object lock;
    private volatile MigrationStatus status = MigrationStatus.NONE;

    /** {@code lock} is the monitor the state is guarded by and waited on (the migration's own lock). */
    public MigrationStateMachine(MigrationTransitions table, Object lock) {
        this.table = table;
        this.lock = lock;
    }

    public MigrationStatus status() {
        return status;
    }

    public MigrationTransitions table() {
        return table;
    }

    /**
     * QEMU's migrate_set_state: moves to {@code to} only if the state is {@code from}; false when it is
     * not (someone else moved first). Throws when the table has no such move.
     */
    public boolean compareAndSet(MigrationStatus from, MigrationStatus to) {
        check(from, to);
        synchronized (lock) {
            if (status != from) {
                return false;
            }
            status = to;
            lock.notifyAll();
            return true;
        }
    }

    /** Moves from whatever the state is now to {@code to}; returns the state it left. Throws when illegal from there. */
    public MigrationStatus moveTo(MigrationStatus to) {
        synchronized (lock) {
            MigrationStatus from = status;
            check(from, to);
            status = to;
            lock.notifyAll();
            return from;
        }
    }

    /** Waits until the state is final (completed, failed, cancelled); false when the time ran out first. */
    public boolean awaitFinished(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (lock) {
            while (!status.finished()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
        return true;
    }

    private void check(MigrationStatus from, MigrationStatus to) {
        if (!table.allows(from, to)) {
            throw new IllegalStateException("migration state " + from.qemuName() + " cannot move to " + to.qemuName()
                    + " (" + table.name().toLowerCase(java.util.Locale.ROOT) + " side)");
        }
    }
}
