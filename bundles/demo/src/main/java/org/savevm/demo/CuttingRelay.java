package org.savevm.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code demo --cut-after BYTES}: a TCP relay between source and destination that passes the first BYTES
 * (counted over every connection: the main stream and any multifd channels) and then resets all of them,
 * as a network failure would.
 */
public final class CuttingRelay implements AutoCloseable {
    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final AtomicLong left;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean cut;

    public CuttingRelay(String targetHost, int targetPort, long limit) throws IOException {
        this.server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.left = new AtomicLong(limit);
        Thread acceptor = new Thread(this::accept, "demo-cutting-relay");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String uri() {
        return "tcp:127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
        try {
            while (!cut) {
                Socket client = server.accept();
                Socket upstream = new Socket();
                sockets.add(client);
                sockets.add(upstream);
                // connect in the same order the source did: a QEMU 7.2 destination tells channels by order
                upstream.connect(new InetSocketAddress(targetHost, targetPort));
                Thread pump = new Thread(() -> pump(client, upstream), "demo-cutting-relay-pump");
                pump.setDaemon(true);
                pump.start();
            }
        } catch (IOException ignored) {
            // the listening socket closed: cut or shut down
        }
    }

    private void pump(Socket client, Socket upstream) {
        byte[] buf = new byte[65536];
        try (InputStream in = client.getInputStream(); OutputStream out = upstream.getOutputStream()) {
            while (!cut) {
                long budget = left.get();
                if (budget <= 0) {
                    break;
                }
                int n = in.read(buf, 0, (int) Math.min(buf.length, budget));
                if (n < 0) {
                    // the source finished this connection normally: pass the end on
                    upstream.shutdownOutput();
                    return;
                }
                long after = left.addAndGet(-n);
                int pass = after >= 0 ? n : (int) Math.max(0, n + after);
                out.write(buf, 0, pass);
                if (after <= 0) {
                    break;
                }
            }
        } catch (IOException ignored) {
            // either end going away: the rest goes down with it, as below
        }
        // the budget is spent, or one end broke: every connection goes down
        reset();
    }

    private void reset() {
        cut = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        for (Socket s : sockets) {
            try {
                s.setSoLinger(true, 0);
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        reset();
    }
}
