package org.savevm.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code demo --cut-after BYTES[,BYTES...] --recover}: a TCP relay, both ways (the return path too), that breaks
 * the link each time the source has sent the next of the given byte counts (counted over the whole migration),
 * and takes the source's reconnection ({@code migrate -r}) to wherever the destination listens for it after
 * {@code migrate-recover} ({@link #retarget}).
 */
public final class RecoveringRelay implements AutoCloseable {
    private static final long TARGET_WAIT_SECONDS = 60;

    private final ServerSocket server;
    private final List<Long> cutsAt;
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicInteger cuts = new AtomicInteger();
    private final Object lock = new Object();
    private String targetHost;
    private int targetPort;
    private volatile Socket client;
    private volatile Socket upstream;
    private volatile boolean closed;

    public RecoveringRelay(String targetHost, int targetPort, List<Long> cutsAt) throws IOException {
        this.server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.cutsAt = List.copyOf(cutsAt);
        Thread acceptor = new Thread(this::accept, "demo-recovering-relay");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String uri() {
        return "tcp:127.0.0.1:" + server.getLocalPort();
    }

    /** How many times the link was broken. */
    public int cuts() {
        return cuts.get();
    }

    /** The destination listens here now (migrate-recover): the next connection goes there. */
    public void retarget(String host, int port) {
        synchronized (lock) {
            targetHost = host;
            targetPort = port;
            lock.notifyAll();
        }
    }

    private void accept() {
        try {
            while (!closed) {
                Socket c = server.accept();
                String host;
                int port;
                synchronized (lock) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TARGET_WAIT_SECONDS);
                    // after a cut the old address is gone: wait until the destination says where it listens
                    while (targetHost == null && !closed && System.nanoTime() < deadline) {
                        lock.wait(100);
                    }
                    host = targetHost;
                    port = targetPort;
                    targetHost = null;
                }
                if (host == null) {
                    c.close();
                    continue;
                }
                Socket u = new Socket();
                u.connect(new InetSocketAddress(host, port));
                client = c;
                upstream = u;
                pump(c, u, true);
                pump(u, c, false);
            }
        } catch (IOException ignored) {
            // the listening socket closed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void pump(Socket from, Socket to, boolean counted) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                while (true) {
                    int max = buf.length;
                    int next = cuts.get();
                    if (counted && next < cutsAt.size()) {
                        max = (int) Math.max(1, Math.min(max, cutsAt.get(next) - forwarded.get()));
                    }
                    int n = in.read(buf, 0, max);
                    if (n < 0) {
                        to.shutdownOutput();
                        return;
                    }
                    out.write(buf, 0, n);
                    if (counted && forwarded.addAndGet(n) >= (next < cutsAt.size() ? cutsAt.get(next) : Long.MAX_VALUE)) {
                        cuts.incrementAndGet();
                        breakLink(from, to);
                        return;
                    }
                }
            } catch (IOException ignored) {
                breakLink(from, to);
            }
        }, "demo-recovering-relay-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void breakLink(Socket a, Socket b) {
        for (Socket s : new Socket[] {a, b}) {
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
        closed = true;
        server.close();
        Socket c = client;
        Socket u = upstream;
        if (c != null && u != null) {
            breakLink(c, u);
        }
        synchronized (lock) {
            lock.notifyAll();
        }
    }
}
