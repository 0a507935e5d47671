package org.savevm.api.migration;

/** An incoming migration (QEMU's -incoming / migrate-incoming). */
public interface Incoming extends Migration {
    /** The address it listens on, with the port the system chose for {@code tcp:host:0}. */
    String address();

    /** Wall-clock time the load ended, 0 before that. */
    long finishedEpochMillis();

    /** Why the load failed, or null. */
    String error();
}
