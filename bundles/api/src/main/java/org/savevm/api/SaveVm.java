package org.savevm.api;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * The savevm core (QEMU's savevm.c): writes and reads whole streams over the registry's handlers.
 * Snapshots and live migration both drive it; this is the whole of the orchestrator's contract with the
 * core: save (with a hook for the commands QEMU's migration thread sends before setup), load (with the
 * destination's command callbacks), the postcopy steps, and per-migration objects such as the multifd
 * channels through the {@link MigrationContext}.
 */
@ProviderType
public interface SaveVm {

    /** One outgoing stream in progress. */
    interface Outgoing extends AutoCloseable {
        /** One round of PART sections (qemu_savevm_state_iterate); true when every live handler is done. */
        boolean iterate() throws IOException;

        /** What the live handlers still have to send. */
        PendingBytes pending(boolean exact) throws IOException;

        /** True once every live handler has finished its first pass (see LiveStateHandler.SaveSession). */
        default boolean firstPassDone() {
            return true;
        }

        /** END sections, FULL device sections, EOF and the vmdesc trailer; flushes. Guest must be stopped. */
        void complete() throws IOException;

        /**
         * A live snapshot (QEMU's bg_migration_thread): the FULL device sections (and their vmdesc) as of now, with
         * the guest stopped; {@link #complete()} then writes these instead of the devices' state at completion, so
         * the guest may run while the live handlers iterate. The stream stays an ordinary one.
         */
        default void captureDeviceState() throws IOException {
            throw new IOException("this savevm core cannot capture the device state ahead of completion");
        }

        /*
         * Postcopy, in migration.c's postcopy_start order: completeNonPostcopiable, commands (ping,
         * discards), writeDeviceSections into the PACKAGED blob, then iteratePostcopy rounds and
         * completePostcopy.
         */

        /** END sections of the live handlers that cannot continue in postcopy. */
        void completeNonPostcopiable() throws IOException;

        /** The FULL device sections into {@code blob} (the PACKAGED buffer): no EOF and no vmdesc, as in postcopy. */
        void writeDeviceSections(MigrationOutput blob) throws IOException;

        /** One round of PART sections for the postcopiable live handlers only; true when they are all done. */
        boolean iteratePostcopy() throws IOException;

        /** END sections of the postcopiable handlers (save_live_complete_postcopy), then EOF; no vmdesc. */
        void completePostcopy() throws IOException;

        /**
         * Postcopy recovery (migrate -r): the old channel broke, the stream goes on in {@code out} with the
         * next record; no header, the sections keep their ids.
         */
        default void resumeOn(MigrationOutput out) throws IOException {
            throw new IOException("this savevm core cannot resume a postcopy migration");
        }

        /** Cleanup of every live handler's save session; safe after failure or cancel. */
        @Override
        void close();
    }

    /** Written after the header and configuration, before any START section. */
    @FunctionalInterface
    interface BeforeSetup {
        BeforeSetup NONE = commands -> {
        };

        /** QEMU's migration thread sends OPEN_RETURN_PATH, PING(1), POSTCOPY_ADVISE and ENABLE_COLO here. */
        void write(OutgoingCommands commands) throws IOException;
    }

    /**
     * Freezes the registry, fails with the blockers if any, writes the header, the configuration
     * section (unless {@code send-configuration} is off), {@code beforeSetup}'s commands and every live
     * handler's START section; the handlers' sessions are opened with {@code context}.
     */
    Outgoing beginSave(MigrationOutput out, MigrationContext context, BeforeSetup beforeSetup) throws IOException;

    /** A snapshot or a plain stream: {@link #beginSave(MigrationOutput, MigrationContext, BeforeSetup)} with no commands. */
    default Outgoing beginSave(MigrationOutput out, MigrationSettings settings) throws IOException {
        return beginSave(out, new MigrationContext(settings), BeforeSetup.NONE);
    }

    /**
     * A whole stream with the guest stopped (QEMU's qemu_savevm_state, the one sequence behind save-state and the
     * snapshots' savevm): {@link #beginSave(MigrationOutput, MigrationSettings)}, iterate until every live handler
     * is done or {@code maxRounds} rounds have run, then complete (END, FULL device sections, EOF, vmdesc). Returns
     * the rounds iterated; {@code out} holds the whole stream, flushed, when it returns.
     */
    default long saveAll(MigrationOutput out, MigrationSettings settings, long maxRounds) throws IOException {
        long rounds = 0;
        try (Outgoing outgoing = beginSave(out, settings)) {
            while (rounds < maxRounds) {
                rounds++;
                if (outgoing.iterate()) {
                    break;
                }
            }
            outgoing.complete();
        }
        return rounds;
    }

    /**
     * Loads a whole stream up to EOF (qemu_loadvm_state), handing every QEMU_VM_COMMAND to {@code commands}.
     * Throws with idstr, instance and offset on error.
     */
    void load(MigrationInput in, MigrationContext context, IncomingCommands commands) throws IOException;

    /** A snapshot or a file: {@link #load(MigrationInput, MigrationContext, IncomingCommands)} with the default commands. */
    default void load(MigrationInput in, MigrationSettings settings) throws IOException {
        load(in, new MigrationContext(settings), IncomingCommands.NONE);
    }

    /** Writes QEMU_VM_COMMAND records into {@code out}: the main stream, or a PACKAGED blob. */
    OutgoingCommands commands(MigrationOutput out);

    /** Device state only: header, FULL sections of non-live handlers, EOF (qemu_save_device_state). */
    void saveDeviceState(MigrationOutput out) throws IOException;
}
