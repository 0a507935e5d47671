package org.savevm.migration.transport;

import org.savevm.api.migration.MigrationUri;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
    /** The TLS server side every accepted connection goes through, or null. */
    private final Tls tls;

    SocketListener(ServerSocketChannel server, MigrationUri address, Path unixPath, Tls tls) {
        this.server = server;
        this.address = address;
        this.unixPath = unixPath;
        this.tls = tls;
    }

    /** The accepted socket as a connection: with TLS, after its handshake. */
    private Connection open(SocketChannel ch) throws IOException {
        ch.configureBlocking(true);
        Transports.noDelay(ch);
        return tls == null ? new ChannelConnection(ch) : tls.secure(ch);
    }

    @Override
    public MigrationUri address() {
        return address;
    }

    @Override
    public Connection accept() throws IOException {
        try {
            SocketChannel ch = server.accept();
            return open(ch);
        } catch (AsynchronousCloseException e) {
            throw new IOException("incoming migration on " + address + " cancelled before a connection arrived", e);
        } finally {
            close();
        }
    }

    @Override
    public List<Connection> acceptAll(int count, long extraTimeoutMillis) throws IOException {
        if (count == 1) {
            return List.of(accept());
        }
        List<Connection> got = new ArrayList<>();
        boolean ok = false;
        try {
            got.add(open(server.accept()));
            // the channels come right after the main stream; a source that never opens them must not
            // leave the destination waiting forever
            server.configureBlocking(false);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(extraTimeoutMillis);
            while (got.size() < count) {
                SocketChannel ch = server.accept();
                if (ch != null) {
                    got.add(open(ch));
                } else if (System.nanoTime() > deadline) {
                    throw new IOException("multifd: " + (got.size() - 1) + " of " + (count - 1) + " channels connected to "
                            + address + " within " + extraTimeoutMillis + " ms of the main stream");
                } else {
                    Thread.sleep(1);
                }
            }
            ok = true;
            return got;
        } catch (ClosedChannelException e) {
            throw new IOException("incoming migration on " + address + " cancelled before all connections arrived", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for multifd channels", e);
        } finally {
            if (!ok) {
                for (Connection c : got) {
                    c.abort();
                }
            }
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
