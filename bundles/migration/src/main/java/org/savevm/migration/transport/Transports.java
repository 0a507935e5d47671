package org.savevm.migration.transport;

import org.savevm.api.migration.MigrationUri;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opens the source's connection or the destination's listener for a {@link MigrationUri}. TCP socket
 * buffers are left to the kernel's autotuning, as QEMU does: fixing them at 4 MiB turned autotuning off
 * and gained nothing measurable over loopback.
 */
public final class Transports {
    /** Room for the main stream and multifd channels arriving at once (multifd-channels is at most 255). */
    private static final int BACKLOG = 256;

    private Transports() {
    }

    /** The source side: connects, creates the file or starts the command. */
    public static Connection connect(MigrationUri uri) throws IOException {
        return connect(uri, null);
    }

    /**
     * The source side with TLS when {@code tls} is given (a client): the session is set up on the socket right after
     * connect. TLS is implemented over {@code tcp:} only here.
     */
    public static Connection connect(MigrationUri uri, Tls tls) throws IOException {
        requireTcp(uri, tls);
        switch (uri.scheme()) {
            case TCP -> {
                String host = uri.host().isEmpty() ? "localhost" : uri.host();
                SocketChannel ch = SocketChannel.open();
                try {
                    ch.connect(new InetSocketAddress(host, uri.port()));
                } catch (IOException e) {
                    ch.close();
                    throw new IOException("Failed to connect to '" + host + ":" + uri.port() + "': " + e.getMessage(), e);
                }
                noDelay(ch);
                return tls == null ? new ChannelConnection(ch) : tls.secure(ch);
            }
            case UNIX -> {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    ch.connect(UnixDomainSocketAddress.of(uri.path()));
                } catch (IOException e) {
                    ch.close();
                    throw new IOException("Failed to connect to '" + uri.path() + "': " + e.getMessage(), e);
                }
                return new ChannelConnection(ch);
            }
            case FILE -> {
                return new ChannelConnection(FileChannel.open(Path.of(uri.path()), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING));
            }
            case EXEC -> {
                return new ExecConnection(uri.path(), true);
            }
            default -> throw new IllegalStateException();
        }
    }

    /**
     * TCP_NODELAY on a tcp channel (a unix socket has no Nagle): the writers flush whole records themselves, and
     * a small write such as a postcopy page request on the return path, or the requested page after it, must not
     * wait for the acknowledgement of earlier data (Nagle with delayed ACKs held them for up to 40 ms).
     */
    static void noDelay(SocketChannel ch) throws IOException {
        if (ch.getLocalAddress() instanceof InetSocketAddress) {
            ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        }
    }

    /** The destination side: binds the socket now (so the address is known), or prepares the file or command. */
    public static Listener listen(MigrationUri uri) throws IOException {
        return listen(uri, null);
    }

    /**
     * The destination side with TLS when {@code tls} is given (a server): every accepted connection runs its
     * handshake before the next is accepted, as the source opens its multifd channels only after the main
     * stream's session is up.
     */
    public static Listener listen(MigrationUri uri, Tls tls) throws IOException {
        requireTcp(uri, tls);
        switch (uri.scheme()) {
            case TCP -> {
                ServerSocketChannel server = ServerSocketChannel.open();
                try {
                    server.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
                    InetSocketAddress bind = uri.host().isEmpty() ? new InetSocketAddress(uri.port())
                            : new InetSocketAddress(uri.host(), uri.port());
                    server.bind(bind, BACKLOG);
                } catch (IOException e) {
                    server.close();
                    throw new IOException("Failed to listen on '" + uri + "': " + e.getMessage(), e);
                }
                int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
                return new SocketListener(server, new MigrationUri(MigrationUri.Scheme.TCP, uri.host(), port, null), null,
                        tls);
            }
            case UNIX -> {
                Path p = Path.of(uri.path());
                // As QEMU does: a stale socket file from an earlier run is replaced.
                Files.deleteIfExists(p);
                ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    server.bind(UnixDomainSocketAddress.of(p), BACKLOG);
                } catch (IOException e) {
                    server.close();
                    throw new IOException("Failed to listen on '" + uri + "': " + e.getMessage(), e);
                }
                return new SocketListener(server, uri, p, null);
            }
            case FILE -> {
                Path p = Path.of(uri.path());
                return new ImmediateListener(uri, () -> new ChannelConnection(FileChannel.open(p, StandardOpenOption.READ)));
            }
            case EXEC -> {
                return new ImmediateListener(uri, () -> new ExecConnection(uri.path(), false));
            }
            default -> throw new IllegalStateException();
        }
    }

    private static void requireTcp(MigrationUri uri, Tls tls) {
        if (tls != null && uri.scheme() != MigrationUri.Scheme.TCP) {
            throw new IllegalArgumentException("TLS (tls-creds) is implemented over tcp: only here, not " + uri);
        }
    }
}
