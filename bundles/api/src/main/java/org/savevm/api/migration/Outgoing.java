package org.savevm.api.migration;

/** An outgoing migration (QEMU's qmp_migrate). */
public interface Outgoing extends Migration {
    /** QEMU's migrate-start-postcopy: switch to postcopy at the next chance. */
    void startPostcopy();

    /**
     * QEMU's {@code migrate -r URI} (resume): reconnects a migration that is postcopy-paused to {@code URI}, where
     * the destination listens after {@code migrate-recover}. Throws IllegalStateException when nothing is paused.
     */
    default void resume(String uri) {
        throw new UnsupportedOperationException("postcopy recovery is not implemented here");
    }
}
