package org.savevm.core.postcopy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/** A one-connection TCP relay, both ways, that the test breaks when it wants (both sides reset). */
final class BreakableLink implements AutoCloseable {
    private final ServerSocket server;
    private final AtomicLong forwarded = new AtomicLong();
    private volatile Socket client;
    private volatile Socket upstream;

    BreakableLink(int targetPort) throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> accept(targetPort), "breakable-link");
        t.setDaemon(true);
        t.start();
    }

    String uri() {
        return "tcp:127.0.0.1:" + server.getLocalPort();
    }

    /** Bytes relayed from the source to the destination. */
    long forwarded() {
        return forwarded.get();
    }

    private void accept(int targetPort) {
        try {
            Socket c = server.accept();
            Socket u = new Socket();
            u.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
            client = c;
            upstream = u;
            pump(c, u, forwarded);
            pump(u, c, new AtomicLong());
        } catch (IOException e) {
            close();
        }
    }

    private void pump(Socket from, Socket to, AtomicLong count) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try {
                // not closed here: closing a socket's stream closes the socket, and the other way may go on
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    count.addAndGet(n);
                }
                to.shutdownOutput();
            } catch (IOException ignored) {
                close();
            }
        }, "breakable-link-pump");
        t.setDaemon(true);
        t.start();
    }

    /** Breaks the link: both connections reset, as a cable pulled. */
    @Override
    public void close() {
        for (Socket s : new Socket[] {client, upstream}) {
            if (s != null) {
                try {
                    s.setSoLinger(true, 0);
                    s.close();
                } catch (IOException ignored) {
                    // gone already
                }
            }
        }
        try {
            server.close();
        } catch (IOException ignored) {
            // gone already
        }
    }
}
