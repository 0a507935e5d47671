package org.savevm.migration.transport;

import org.savevm.api.migration.MigrationUri;
import java.io.IOException;

/** {@code file:} and {@code exec:} on the destination: nothing to wait for, the stream is opened on accept. */
final class ImmediateListener implements Listener {
    interface Opener {
        Connection open() throws IOException;
    }

    private final MigrationUri address;
    private final Opener opener;
    private volatile boolean closed;

    ImmediateListener(MigrationUri address, Opener opener) {
        this.address = address;
        this.opener = opener;
    }

    @Override
    public MigrationUri address() {
        return address;
    }

    @Override
    public Connection accept() throws IOException {
        if (closed) {
            throw new IOException("incoming migration on " + address + " cancelled");
        }
        try {
            return opener.open();
        } catch (IOException e) {
            throw new IOException("Failed to open '" + address + "': " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
