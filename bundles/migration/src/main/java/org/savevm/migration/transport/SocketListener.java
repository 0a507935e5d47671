package org.savevm.migration.transport;

import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** A bound TCP or Unix socket that takes exactly one connection (QEMU stops listening after the first). */
final class SocketListener implements Listener {
    private final ServerSocketChannel server;
    private final MigrationUri address;
    private final Path unixPath;

    SocketListener(ServerSocketChannel server, MigrationUri address, Path unixPath) {
        this.server = server;
        this.address = address;
        this.unixPath = unixPath;
    }

    @Override
    public MigrationUri address() {
        return address;
    }

    @Override
    public Connection accept() throws IOException {
        try {
            SocketChannel ch = server.accept();
            return new ChannelConnection(ch);
        } catch (AsynchronousCloseException e) {
            throw new IOException("incoming migration on " + address + " cancelled before a connection arrived", e);
        } finally {
            close();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        if (unixPath != null) {
            Files.deleteIfExists(unixPath);
        }
    }
}
