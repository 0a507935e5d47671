package org.savevm.api.migration;

import java.util.concurrent.TimeUnit;

/** One migration, outgoing or incoming, as the orchestrator runs it. */
public interface Migration {
    MigrationStatus status();

    /** query-migrate's view of this migration now. */
    MigrationInfo info();

    /** Waits until the migration finished; false when the time ran out first. */
    boolean await(long timeout, TimeUnit unit) throws InterruptedException;

    /** QEMU's migrate_cancel for this migration. */
    void cancel();
}
