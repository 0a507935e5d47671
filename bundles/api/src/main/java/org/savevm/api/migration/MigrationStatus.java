package org.savevm.api.migration;

/**
 * QEMU 7.2's MigrationStatus (qapi/migration.json), every value with its QAPI name. Which state may follow
 * which is the orchestrator's transition table, not this enum's business.
 */
public enum MigrationStatus {
    NONE("none"),
    SETUP("setup"),
    CANCELLING("cancelling"),
    CANCELLED("cancelled"),
    ACTIVE("active"),
    POSTCOPY_ACTIVE("postcopy-active"),
    /** Postcopy lost its channel; the guest waits for a recovery (migrate -r). */
    POSTCOPY_PAUSED("postcopy-paused"),
    /** A paused postcopy is being resumed over a new channel. */
    POSTCOPY_RECOVER("postcopy-recover"),
    COMPLETED("completed"),
    FAILED("failed"),
    COLO("colo"),
    /** Paused before the switchover until migrate-continue (capability pause-before-switchover). */
    PRE_SWITCHOVER("pre-switchover"),
    /** Sending the device state after pre-switchover. */
    DEVICE("device"),
    /** Waiting for devices to be unplugged before the migration starts. */
    WAIT_UNPLUG("wait-unplug");

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

    /**
     * QEMU 7.2's migration_is_running: every state between setup and the end, including a paused or
     * recovering postcopy and cancelling.
     */
    public boolean running() {
        return switch (this) {
            case SETUP, ACTIVE, POSTCOPY_ACTIVE, POSTCOPY_PAUSED, POSTCOPY_RECOVER, PRE_SWITCHOVER, DEVICE,
                    WAIT_UNPLUG, CANCELLING -> true;
            default -> false;
        };
    }
}
