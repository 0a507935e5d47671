package org.savevm.migration.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * {@code demo --cut-after BYTES}: a one-connection TCP relay between source and destination that passes
 * the first BYTES of the stream and then resets both connections, as a network failure would.
 */
public final class CuttingRelay implements AutoCloseable {
    private final ServerSocket server;
    private final Thread thread;
    private volatile Socket client;
    private volatile Socket upstream;

    public CuttingRelay(String targetHost, int targetPort, long limit) throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        thread = new Thread(() -> relay(targetHost, targetPort, limit), "demo-cutting-relay");
        thread.setDaemon(true);
        thread.start();
    }

    public String uri() {
        return "tcp:127.0.0.1:" + server.getLocalPort();
    }

    private void relay(String host, int port, long limit) {
        try {
            client = server.accept();
            upstream = new Socket();
            upstream.connect(new InetSocketAddress(host, port));
            byte[] buf = new byte[65536];
            long left = limit;
            try (InputStream in = client.getInputStream(); OutputStream out = upstream.getOutputStream()) {
                while (left > 0) {
                    int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                    if (n < 0) {
                        break;
                    }
                    out.write(buf, 0, n);
                    left -= n;
                }
            }
        } catch (IOException ignored) {
            // Either end going away is the point of this relay.
        } finally {
            reset();
        }
    }

    private void reset() {
        for (Socket s : new Socket[] {client, upstream}) {
            if (s != null) {
                try {
                    s.setSoLinger(true, 0);
                    s.close();
                } catch (IOException ignored) {
                    // Already closed.
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        reset();
    }
}
