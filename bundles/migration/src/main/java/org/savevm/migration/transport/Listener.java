package org.savevm.migration.transport;

import org.savevm.api.migration.MigrationUri;
import java.util.List;

import java.io.Closeable;
import java.io.IOException;

/** The destination's side before the source connects: a bound socket, or a file or command to read. */
public interface Listener extends Closeable {
    /** The address actually in use (e.g. the port picked for {@code tcp:HOST:0}). */
    MigrationUri address();

    /** Waits for the one incoming stream; fails if {@link #close()} is called meanwhile. */
    Connection accept() throws IOException;

    /**
     * Waits for the main stream and then {@code count - 1} more connections (multifd channels), which
     * must arrive within {@code extraTimeoutMillis} of the first. Only sockets carry several.
     */
    default List<Connection> acceptAll(int count, long extraTimeoutMillis) throws IOException {
        if (count == 1) {
            return List.of(accept());
        }
        close();
        throw new IOException("multifd is not supported by current protocol (" + address() + "): use tcp: or unix:");
    }

    @Override
    void close() throws IOException;
}
