package org.savevm.migration;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay for any number of connections that keeps the first bytes of each direction of each connection, to
 * show what travels on the wire.
 */
final class RecordingProxy implements AutoCloseable {
    private static final int KEEP = 1 << 20;

    /** One relayed connection: what the client sent and what it got back, in arrival order. */
    static final class Recorded {
        final ByteArrayOutputStream up = new ByteArrayOutputStream();
        final ByteArrayOutputStream down = new ByteArrayOutputStream();
    }

    private final ServerSocket server;
    private final int target;
    final List<Recorded> connections = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    RecordingProxy(int target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "recording-proxy");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        try {
            while (true) {
                Socket a = server.accept();
                Socket b = new Socket(InetAddress.getLoopbackAddress(), target);
                open.add(a);
                open.add(b);
                Recorded r = new Recorded();
                connections.add(r);
                pump(a, b, r.up);
                pump(b, a, r.down);
            }
        } catch (IOException e) {
            // closed
        }
    }

    private static void pump(Socket from, Socket to, ByteArrayOutputStream keep) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try (InputStream in = from.getInputStream()) {
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (keep) {
                        if (keep.size() < KEEP) {
                            keep.write(buf, 0, Math.min(n, KEEP - keep.size()));
                        }
                    }
                    out.write(buf, 0, n);
                }
                to.shutdownOutput();
            } catch (IOException e) {
                try {
                    to.close();
                } catch (IOException ignored) {
                    // both sides go
                }
            }
        }, "recording-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    static byte[] bytes(ByteArrayOutputStream b) {
        synchronized (b) {
            return b.toByteArray();
        }
    }

    /** Whether {@code needle} occurs in {@code hay}. */
    static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
