package org.savevm.api.migration;

/** Told about a migration's progress: QEMU's MIGRATION and MIGRATION_PASS events. */
public interface MigrationListener {
    MigrationListener NONE = new MigrationListener() {
    };

    /** The state changed (QEMU's MIGRATION event). */
    default void stateChanged(MigrationStatus status, MigrationInfo info) {
    }

    /** Counters were updated (every 100 ms while active). */
    default void progress(MigrationInfo info) {
    }

    /** A bitmap sync started pass {@code pass} over RAM (QEMU's MIGRATION_PASS event). */
    default void pass(long pass, MigrationInfo info) {
    }
}
