package org.savevm.migration.state;

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

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import org.savevm.api.migration.MigrationStatus;

/**
 * Which {@link MigrationStatus} may follow which, one table per side, after the migrate_set_state calls
 * of QEMU 7.2's migration/migration.c, savevm.c and postcopy-ram.c (the function that makes each move is
 * named next to it). States this orchestrator does not reach yet (wait-unplug, pre-switchover, device,
 * colo, postcopy-paused, postcopy-recover) have their edges all the same, so the postcopy recovery and
 * the other features only have to make the moves, not invent them.
 */
public enum MigrationTransitions {
    /** The source (QEMU's MigrationState.state). */
    OUTGOING {
        @Override
        void define(Map<MigrationStatus, Set<MigrationStatus>> t) {
            edge(t, NONE, SETUP);                       // migrate_init (qmp_migrate)
            edge(t, SETUP, ACTIVE);                     // migration_thread, no unplug to wait for
            edge(t, SETUP, WAIT_UNPLUG);                // qemu_savevm_wait_unplug
            edge(t, WAIT_UNPLUG, ACTIVE);               // qemu_savevm_wait_unplug, devices unplugged
            edge(t, ACTIVE, PRE_SWITCHOVER);            // migration_maybe_pause (pause-before-switchover)
            edge(t, PRE_SWITCHOVER, DEVICE);            // migration_maybe_pause, migrate-continue, completion
            edge(t, PRE_SWITCHOVER, POSTCOPY_ACTIVE);   // migration_maybe_pause from postcopy_start
            edge(t, ACTIVE, POSTCOPY_ACTIVE);           // postcopy_start
            edge(t, ACTIVE, COMPLETED);                 // migration_completion
            edge(t, DEVICE, COMPLETED);                 // migration_completion after pre-switchover
            edge(t, POSTCOPY_ACTIVE, COMPLETED);        // migration_completion in postcopy
            edge(t, ACTIVE, COLO);                      // migrate_start_colo_process
            edge(t, COLO, COMPLETED);                   // colo_process_checkpoint, failover
            edge(t, POSTCOPY_ACTIVE, POSTCOPY_PAUSED);  // postcopy_pause: the channel broke
            edge(t, POSTCOPY_RECOVER, POSTCOPY_PAUSED); // postcopy_pause: the resume failed, wait again
            edge(t, POSTCOPY_PAUSED, POSTCOPY_RECOVER); // migrate_fd_connect with migrate -r (resume)
            edge(t, POSTCOPY_RECOVER, POSTCOPY_ACTIVE); // postcopy_do_resume / RESUME_ACK
            // migration_completion, migrate_fd_error, migration_detect_error: failures while it runs
            for (MigrationStatus s : EnumSet.of(SETUP, WAIT_UNPLUG, ACTIVE, PRE_SWITCHOVER, DEVICE, POSTCOPY_ACTIVE)) {
                edge(t, s, FAILED);
            }
            // migrate_fd_cancel: every state for which migration_is_running() holds
            for (MigrationStatus s : MigrationStatus.values()) {
                if (s.running() && s != CANCELLING) {
                    edge(t, s, CANCELLING);
                }
            }
            edge(t, CANCELLING, CANCELLED);             // migrate_fd_cleanup
        }
    },

    /** The destination (QEMU's MigrationIncomingState.state). */
    INCOMING {
        @Override
        void define(Map<MigrationStatus, Set<MigrationStatus>> t) {
            edge(t, NONE, SETUP);                       // qemu_start_incoming_migration
            edge(t, SETUP, ACTIVE);                     // process_incoming_migration_co, the stream is there
            // savevm: an incoming migration that never got its stream (accept failed or timed out,
            // migrate-cancel while listening) fails from setup
            edge(t, SETUP, FAILED);
            edge(t, ACTIVE, POSTCOPY_ACTIVE);           // loadvm_postcopy_handle_listen / _run
            edge(t, ACTIVE, COMPLETED);                 // process_incoming_migration_co
            edge(t, ACTIVE, FAILED);                    // process_incoming_migration_co, load failed
            edge(t, POSTCOPY_ACTIVE, COMPLETED);        // postcopy_ram_listen_thread
            edge(t, POSTCOPY_ACTIVE, FAILED);           // postcopy_ram_listen_thread, load failed
            edge(t, ACTIVE, COLO);                      // colo_process_incoming_thread
            edge(t, COLO, COMPLETED);                   // colo_process_incoming_thread, failover
            edge(t, POSTCOPY_ACTIVE, POSTCOPY_PAUSED);  // postcopy_pause_incoming: the channel broke
            edge(t, POSTCOPY_PAUSED, POSTCOPY_RECOVER); // migration_incoming_process on the new channel
            edge(t, POSTCOPY_RECOVER, POSTCOPY_ACTIVE); // loadvm_postcopy_handle_resume
            // savevm: the new channel broke before POSTCOPY_RESUME; pause again and wait for the next one
            edge(t, POSTCOPY_RECOVER, POSTCOPY_PAUSED);
            // savevm: a paused or recovering destination that is cancelled, or gets a bad stream, fails
            edge(t, POSTCOPY_PAUSED, FAILED);
            edge(t, POSTCOPY_RECOVER, FAILED);
        }
    };

    private final Map<MigrationStatus, Set<MigrationStatus>> edges;

    MigrationTransitions() {
        Map<MigrationStatus, Set<MigrationStatus>> t = new EnumMap<>(MigrationStatus.class);
        for (MigrationStatus s : MigrationStatus.values()) {
            t.put(s, EnumSet.noneOf(MigrationStatus.class));
        }
        define(t);
        t.replaceAll((s, next) -> Collections.unmodifiableSet(next));
        this.edges = Collections.unmodifiableMap(t);
    }

    abstract void define(Map<MigrationStatus, Set<MigrationStatus>> t);

    private static void edge(Map<MigrationStatus, Set<MigrationStatus>> t, MigrationStatus from, MigrationStatus to) {
        t.get(from).add(to);
    }

    /** True when QEMU moves from {@code from} to {@code to} on this side. */
    public boolean allows(MigrationStatus from, MigrationStatus to) {
        return edges.get(from).contains(to);
    }

    /** The states that may follow {@code from}; empty for the final ones. */
    public Set<MigrationStatus> next(MigrationStatus from) {
        return edges.get(from);
    }
}
