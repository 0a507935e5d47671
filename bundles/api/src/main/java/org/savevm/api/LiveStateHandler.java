package org.savevm.api;

import java.io.IOException;

import org.osgi.annotation.versioning.ConsumerType;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * An iterative ("live") handler: QEMU's SaveVMHandlers. The save side is driven as setup (START
 * section), iterate (PART sections) until done or the switchover, then complete (END section). The
 * framing (section headers, footers) is written by the savevm core; handlers write only their body.
 *
 * <p>Per-migration state belongs in the object returned by {@link #beginSave} / {@link #beginLoad},
 * never in the handler service itself, so that a save and a load (or two saves) can run side by side.
 * What the orchestrator needs to see of it (stats, postcopy controls) the handler publishes in the
 * {@link MigrationContext}.
 */
@ConsumerType
public interface LiveStateHandler extends StateHandler {

    /** Save state of one outgoing migration or snapshot. */
    interface SaveSession extends AutoCloseable {
        /** save_setup: the START section body. */
        void setup(MigrationOutput out) throws IOException;

        /**
         * save_live_iterate: one PART section body. Returns true when everything is sent for now (QEMU's
         * return value 1), false when the handler stopped because of the rate limit or its time budget.
         */
        boolean iterate(MigrationOutput out) throws IOException;

        /** state_pending_estimate (exact=false) or state_pending_exact (exact=true). */
        PendingBytes pending(boolean exact) throws IOException;

        /** save_live_complete_precopy: the END section body, with the guest stopped. */
        void completePrecopy(MigrationOutput out) throws IOException;

        /** save_live_complete_postcopy; only called when {@link #hasPostcopy()}. */
        default void completePostcopy(MigrationOutput out) throws IOException {
            completePrecopy(out);
        }

        /**
         * False while the first pass over the handler's data is still going (data that was never sent at
         * all is left). Not in QEMU 7.2: the orchestrator does not switch over before every first pass is
         * done, because never-sent data costs the same to send now or with the guest stopped, and sending
         * it now keeps it out of the downtime.
         */
        default boolean firstPassDone() {
            return true;
        }

        /** is_active_iterate: false to skip this handler's PART sections for now. */
        default boolean isActiveIterate() {
            return true;
        }

        /** save_cleanup: release resources; called on success, failure and cancel. */
        @Override
        default void close() {
        }
    }

    /** Load state of one incoming migration or snapshot. */
    interface LoadSession extends AutoCloseable {
        /**
         * load_state: one section body (START, PART or END). {@code version} is the version found in the
         * START header.
         */
        void load(MigrationInput in, int version) throws IOException;

        /** Called once the whole stream has loaded (EOF reached). */
        default void complete() throws IOException {
        }

        /** load_cleanup. */
        @Override
        default void close() {
        }
    }

    /** is_active: false to leave this handler out of this migration entirely (e.g. block without the capability). */
    default boolean isActive(MigrationSettings settings) {
        return true;
    }

    /** True when this handler can send part of its data after the switchover (postcopy). */
    default boolean hasPostcopy() {
        return false;
    }

    /** save_setup's context: opens a save session for this migration. */
    SaveSession beginSave(MigrationContext context) throws IOException;

    /** load_setup's context: opens a load session for this migration. */
    LoadSession beginLoad(MigrationContext context) throws IOException;
}
