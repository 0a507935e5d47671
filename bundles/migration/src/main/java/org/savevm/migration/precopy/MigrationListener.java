package org.savevm.migration.precopy;

/** Told about a migration's progress: QEMU's MIGRATION and MIGRATION_PASS events. */
public interface MigrationListener {
    MigrationListener NONE = new MigrationListener() {
    };

    /** The state changed (QEMU's MIGRATION event). */
    default void stateChanged(MigrationStatus status, MigrationInfo info) {
    }

    /** A bitmap sync started a new pass over RAM (QEMU's MIGRATION_PASS event), or counters were updated. */
    default void progress(MigrationInfo info) {
    }
}
