package org.savevm.migration.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.savevm.api.migration.MigrationStatus.ACTIVE;
import static org.savevm.api.migration.MigrationStatus.CANCELLED;
import static org.savevm.api.migration.MigrationStatus.CANCELLING;
import static org.savevm.api.migration.MigrationStatus.COLO;
import static org.savevm.api.migration.MigrationStatus.COMPLETED;
import static org.savevm.api.migration.MigrationStatus.DEVICE;
import static org.savevm.api.migration.MigrationStatus.FAILED;
import static org.savevm.api.migration.MigrationStatus.NONE;
import static org.savevm.api.migration.MigrationStatus.POSTCOPY_ACTIVE;
import static org.savevm.api.migration.MigrationStatus.POSTCOPY_PAUSED;
import static org.savevm.api.migration.MigrationStatus.POSTCOPY_RECOVER;
import static org.savevm.api.migration.MigrationStatus.PRE_SWITCHOVER;
import static org.savevm.api.migration.MigrationStatus.SETUP;
import static org.savevm.api.migration.MigrationStatus.WAIT_UNPLUG;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.savevm.api.migration.MigrationStatus;

class MigrationStateMachineTest {
    private static MigrationStateMachine machine(MigrationTransitions t, MigrationStatus... path) {
        MigrationStateMachine m = new MigrationStateMachine(t, new Object());
        MigrationStatus at = NONE;
        for (MigrationStatus next : path) {
            assertTrue(m.compareAndSet(at, next), at + " -> " + next);
            at = next;
        }
        return m;
    }

    private static Set<MigrationStatus> reachable(MigrationTransitions t) {
        Set<MigrationStatus> seen = EnumSet.of(NONE);
        Deque<MigrationStatus> todo = new ArrayDeque<>(seen);
        while (!todo.isEmpty()) {
            for (MigrationStatus n : t.next(todo.pop())) {
                if (seen.add(n)) {
                    todo.add(n);
                }
            }
        }
        return seen;
    }

    @Test
    void precopyPostcopyAndRecoveryPathsAreLegalOnTheSource() {
        assertEquals(COMPLETED, machine(MigrationTransitions.OUTGOING, SETUP, ACTIVE, COMPLETED).status());
        assertEquals(COMPLETED, machine(MigrationTransitions.OUTGOING, SETUP, WAIT_UNPLUG, ACTIVE, PRE_SWITCHOVER,
                DEVICE, COMPLETED).status());
        // the postcopy recovery of issue 12: paused, recover, paused again, recover, active, completed
        assertEquals(COMPLETED, machine(MigrationTransitions.OUTGOING, SETUP, ACTIVE, POSTCOPY_ACTIVE, POSTCOPY_PAUSED,
                POSTCOPY_RECOVER, POSTCOPY_PAUSED, POSTCOPY_RECOVER, POSTCOPY_ACTIVE, COMPLETED).status());
        assertEquals(CANCELLED, machine(MigrationTransitions.OUTGOING, SETUP, ACTIVE, POSTCOPY_ACTIVE, POSTCOPY_PAUSED,
                CANCELLING, CANCELLED).status());
    }

    @Test
    void theDestinationPausesAndRecoversButIsNeverCancelling() {
        assertEquals(COMPLETED, machine(MigrationTransitions.INCOMING, SETUP, ACTIVE, POSTCOPY_ACTIVE, POSTCOPY_PAUSED,
                POSTCOPY_RECOVER, POSTCOPY_ACTIVE, COMPLETED).status());
        assertEquals(FAILED, machine(MigrationTransitions.INCOMING, SETUP, FAILED).status());
        assertEquals(EnumSet.complementOf(EnumSet.of(CANCELLING, CANCELLED, WAIT_UNPLUG, PRE_SWITCHOVER, DEVICE)),
                reachable(MigrationTransitions.INCOMING));
        assertEquals(EnumSet.allOf(MigrationStatus.class), reachable(MigrationTransitions.OUTGOING),
                "every QEMU state has a way in on the source");
    }

    @Test
    void everyRunningSourceStateCanBeCancelledAndFinalStatesAreFinal() {
        for (MigrationStatus s : MigrationStatus.values()) {
            assertEquals(s.running() && s != CANCELLING, MigrationTransitions.OUTGOING.allows(s, CANCELLING), s.qemuName());
            if (s.finished()) {
                assertTrue(MigrationTransitions.OUTGOING.next(s).isEmpty(), s.qemuName());
                assertTrue(MigrationTransitions.INCOMING.next(s).isEmpty(), s.qemuName());
            }
        }
        assertEquals(Set.of(CANCELLED), MigrationTransitions.OUTGOING.next(CANCELLING), "cancelling only ends cancelled");
    }

    @Test
    void illegalMovesAreRefused() {
        MigrationStateMachine fresh = machine(MigrationTransitions.OUTGOING);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> fresh.compareAndSet(NONE, ACTIVE));
        assertEquals("migration state none cannot move to active (outgoing side)", e.getMessage());
        assertEquals(NONE, fresh.status());

        MigrationStateMachine done = machine(MigrationTransitions.OUTGOING, SETUP, ACTIVE, COMPLETED);
        assertThrows(IllegalStateException.class, () -> done.moveTo(FAILED));
        assertThrows(IllegalStateException.class, () -> done.moveTo(ACTIVE));
        assertEquals(COMPLETED, done.status());

        MigrationStateMachine active = machine(MigrationTransitions.OUTGOING, SETUP, ACTIVE);
        assertThrows(IllegalStateException.class, () -> active.moveTo(CANCELLED), "a cancel goes through cancelling");
        assertThrows(IllegalStateException.class, () -> active.moveTo(POSTCOPY_RECOVER), "recover only after paused");
        assertThrows(IllegalStateException.class, () -> active.moveTo(POSTCOPY_PAUSED), "paused only in postcopy");
        assertEquals(ACTIVE, active.status());

        MigrationStateMachine incoming = machine(MigrationTransitions.INCOMING, SETUP, ACTIVE);
        assertThrows(IllegalStateException.class, () -> incoming.moveTo(CANCELLING));
        assertThrows(IllegalStateException.class, () -> incoming.moveTo(SETUP));
    }

    @Test
    void compareAndSetLosesToACancelThatCameFirst() {
        MigrationStateMachine m = machine(MigrationTransitions.OUTGOING, SETUP, ACTIVE);
        assertEquals(ACTIVE, m.moveTo(CANCELLING));
        assertFalse(m.compareAndSet(ACTIVE, COMPLETED), "the migration thread's completion must not overwrite the cancel");
        assertFalse(m.compareAndSet(ACTIVE, POSTCOPY_ACTIVE));
        assertEquals(CANCELLING, m.status());
        assertEquals(CANCELLING, m.moveTo(CANCELLED));
        assertTrue(m.status().finished());
    }

    @Test
    void awaitFinishedWakesOnTheFinalMove() throws Exception {
        Object lock = new Object();
        MigrationStateMachine m = new MigrationStateMachine(MigrationTransitions.INCOMING, lock);
        m.compareAndSet(NONE, SETUP);
        assertFalse(m.awaitFinished(20, TimeUnit.MILLISECONDS));
        Thread t = new Thread(() -> {
            m.compareAndSet(SETUP, ACTIVE);
            m.compareAndSet(ACTIVE, COMPLETED);
        });
        t.start();
        assertTrue(m.awaitFinished(10, TimeUnit.SECONDS));
        assertEquals(COMPLETED, m.status());
        t.join();
    }
}
