package org.savevm.itests;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A TCP relay that delays every chunk by a fixed time each way, in order, and holds about one chunk in a hundred an
 * extra 200 ms (what a lost segment costs TCP: its minimum retransmission timeout). Used where the kernel has no
 * netem to delay and drop packets itself.
 */
final class DelayingRelay implements AutoCloseable {
    private static final long LOSS_STALL_MILLIS = 200;

    private record Chunk(long dueNanos, byte[] data, int length) {
    }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final long delayNanos;
    private final double stallProbability;
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    DelayingRelay(InetAddress bind, int port, InetSocketAddress target, long delayMillis, double stallProbability)
            throws IOException {
        this.server = new ServerSocket(port, 50, bind);
        this.target = target;
        this.delayNanos = TimeUnit.MILLISECONDS.toNanos(delayMillis);
        this.stallProbability = stallProbability;
        Thread t = new Thread(this::acceptLoop, "delaying-relay");
        t.setDaemon(true);
        t.start();
    }

    private void acceptLoop() {
        try {
            while (true) {
                Socket a = server.accept();
                Socket b = new Socket();
                b.connect(target, 10_000);
                open.add(a);
                open.add(b);
                direction(a, b, 1);
                direction(b, a, 2);
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void direction(Socket from, Socket to, long seed) {
        BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
        Random rnd = new Random(seed);
        Thread reader = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    long due = System.nanoTime() + delayNanos
                            + (rnd.nextDouble() < stallProbability ? TimeUnit.MILLISECONDS.toNanos(LOSS_STALL_MILLIS) : 0);
                    queue.add(new Chunk(due, buf.clone(), n));
                }
            } catch (IOException e) {
                // the end of this direction
            }
            queue.add(new Chunk(0, null, -1));
        }, "delaying-relay-read");
        Thread writer = new Thread(() -> {
            try {
                OutputStream out = to.getOutputStream();
                long lastDue = 0;
                while (true) {
                    Chunk c = queue.take();
                    if (c.length < 0) {
                        to.shutdownOutput();
                        return;
                    }
                    // in order: a stalled chunk holds back the ones behind it, as TCP's in-order delivery does
                    long due = Math.max(c.dueNanos, lastDue);
                    lastDue = due;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    out.write(c.data, 0, c.length);
                }
            } catch (IOException | InterruptedException e) {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // both go
                }
            }
        }, "delaying-relay-write");
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
