package org.savevm.migration.transport;

import java.io.Closeable;
import java.io.IOException;

/** The destination's side before the source connects: a bound socket, or a file or command to read. */
public interface Listener extends Closeable {
    /** The address actually in use (e.g. the port picked for {@code tcp:HOST:0}). */
    MigrationUri address();

    /** Waits for the one incoming stream; fails if {@link #close()} is called meanwhile. */
    Connection accept() throws IOException;

    @Override
    void close() throws IOException;
}
