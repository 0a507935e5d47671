package org.savevm.api;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * The savevm core (QEMU's savevm.c): writes and reads whole streams over the registry's handlers.
 * Snapshots and live migration both drive it.
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

        /** Cleanup of every live handler's save session; safe after failure or cancel. */
        @Override
        void close();
    }

    /**
     * Freezes the registry, fails with the blockers if any, writes the header, the configuration
     * section (unless {@code send-configuration} is off) and every live handler's START section.
     */
    Outgoing beginSave(MigrationOutput out, MigrationSettings settings) throws IOException;

    /** Loads a whole stream up to EOF (qemu_loadvm_state). Throws with idstr, instance and offset on error. */
    void load(MigrationInput in, MigrationSettings settings) throws IOException;

    /** Device state only: header, FULL sections of non-live handlers, EOF (qemu_save_device_state). */
    void saveDeviceState(MigrationOutput out) throws IOException;
}
