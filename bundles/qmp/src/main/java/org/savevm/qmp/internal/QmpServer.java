package org.savevm.qmp.internal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.savevm.api.qmp.QmpEvents;
import org.savevm.stream.ChannelStreams;

/**
 * The monitor's listening socket: every accepted client gets a {@link QmpSession} on a thread of its own (QEMU
 * serves one client per chardev at a time; here several may be connected, each with its own negotiation).
 * Events go to every negotiated client.
 */
final class QmpServer implements QmpEvents, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(QmpServer.class.getName());

    private final MonitorAddress address;
    private final ServerSocketChannel server;
    private final QmpSession.Commands commands;
    private final Map<String, Object> greeting;
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final AtomicInteger ids = new AtomicInteger();
    private final Thread acceptor;

    private record Client(SocketChannel channel, QmpSession session) {
    }

    private QmpServer(MonitorAddress address, ServerSocketChannel server, QmpSession.Commands commands,
            Map<String, Object> greeting) {
        this.address = address;
        this.server = server;
        this.commands = commands;
        this.greeting = greeting;
        this.acceptor = new Thread(this::acceptLoop, "qmp-accept " + address.text());
        acceptor.setDaemon(true);
    }

    static QmpServer open(MonitorAddress address, QmpSession.Commands commands, Map<String, Object> greeting)
            throws IOException {
        ServerSocketChannel ch;
        if (address.address() instanceof UnixDomainSocketAddress u) {
            Path path = u.getPath();
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                // a stale socket of an earlier run is replaced, as QEMU does; anything else is the user's file
                if (!Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
                    throw new IOException("QMP monitor: cannot listen on " + address.text() + ": " + path
                            + " exists and is not a socket");
                }
                Files.delete(path);
            }
            ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        } else {
            ch = ServerSocketChannel.open();
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        }
        try {
            ch.bind(address.address());
        } catch (IOException e) {
            ch.close();
            throw new IOException("QMP monitor: cannot listen on " + address.text() + ": " + e.getMessage(), e);
        }
        QmpServer s = new QmpServer(address, ch, commands, greeting);
        s.acceptor.start();
        return s;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "QMP monitor on " + address.text() + ": accept failed: " + e);
                return;
            }
            QmpSession session = new QmpSession(ChannelStreams.input(c), ChannelStreams.output(c), commands, this,
                    greeting);
            Client client = new Client(c, session);
            clients.add(client);
            Thread t = new Thread(() -> {
                try {
                    session.run();
                } finally {
                    clients.remove(client);
                    try {
                        c.close();
                    } catch (IOException ignored) {
                        // gone
                    }
                }
            }, "qmp-client-" + ids.incrementAndGet());
            t.setDaemon(true);
            t.start();
        }
    }

    @Override
    public void emit(String event, Map<String, Object> data) {
        Instant now = Instant.now();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("timestamp", Map.of("seconds", now.getEpochSecond(), "microseconds", now.getNano() / 1000));
        m.put("event", event);
        if (data != null && !data.isEmpty()) {
            m.put("data", data);
        }
        for (Client c : clients) {
            if (c.session().negotiated()) {
                try {
                    c.session().send(m);
                } catch (IOException e) {
                    // that client is gone; its thread ends the session
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Client c : clients) {
            c.channel().close();
        }
        if (address.address() instanceof UnixDomainSocketAddress u) {
            Files.deleteIfExists(u.getPath());
        }
    }
}
