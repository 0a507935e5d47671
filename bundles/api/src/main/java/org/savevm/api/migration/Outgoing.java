package org.savevm.api.migration;

/** An outgoing migration (QEMU's qmp_migrate). */
public interface Outgoing extends Migration {
    /** QEMU's migrate-start-postcopy: switch to postcopy at the next chance. */
    void startPostcopy();
}
