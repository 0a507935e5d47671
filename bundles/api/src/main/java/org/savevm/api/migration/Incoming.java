package org.savevm.api.migration;

/** An incoming migration (QEMU's -incoming / migrate-incoming). */
public interface Incoming extends Migration {
    /** The address it listens on, with the port the system chose for {@code tcp:host:0}. */
    String address();

    /** Wall-clock time the load ended, 0 before that. */
    long finishedEpochMillis();

    /** Why the load failed, or null. */
    String error();

    /**
     * QEMU's {@code migrate-recover URI}: a destination that is postcopy-paused listens on {@code URI} for the
     * source's {@code migrate -r}. Returns the address listened on (the port picked for {@code tcp:HOST:0}).
     * Throws IllegalStateException unless paused, IOException when it cannot listen.
     */
    default String recover(String uri) throws java.io.IOException {
        throw new UnsupportedOperationException("postcopy recovery is not implemented here");
    }
}
