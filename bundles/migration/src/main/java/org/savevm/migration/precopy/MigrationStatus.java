package org.savevm.migration.precopy;

/** QEMU's MigrationStatus values that this orchestrator uses, with their QAPI names. */
public enum MigrationStatus {
    NONE("none"), SETUP("setup"), CANCELLING("cancelling"), CANCELLED("cancelled"), ACTIVE("active"), POSTCOPY_ACTIVE("postcopy-active"),
    COMPLETED("completed"), FAILED("failed");

    private final String qemuName;

    MigrationStatus(String qemuName) {
        this.qemuName = qemuName;
    }

    public String qemuName() {
        return qemuName;
    }

    /** True once nothing will change any more. */
    public boolean finished() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    /** QEMU's migration_is_running: setup, active, postcopy-active or cancelling. */
    public boolean running() {
        return this == SETUP || this == ACTIVE || this == POSTCOPY_ACTIVE || this == CANCELLING;
    }
}
