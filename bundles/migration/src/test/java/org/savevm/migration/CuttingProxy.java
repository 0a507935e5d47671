package org.savevm.migration;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** A one-connection TCP relay that forwards the first {@code limit} bytes and then drops both sides. */
final class CuttingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final Thread thread;
    private volatile Socket client;
    private volatile Socket upstream;

    CuttingProxy(int targetPort, long limit) throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        thread = new Thread(() -> relay(targetPort, limit), "cutting-proxy");
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void relay(int targetPort, long limit) {
        try {
            client = server.accept();
            upstream = new Socket();
            upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
            byte[] buf = new byte[16384];
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
            // The test looks at what the two ends report.
        } finally {
            drop();
        }
    }

    private void drop() {
        for (Socket s : new Socket[] {client, upstream}) {
            if (s != null) {
                try {
                    s.setSoLinger(true, 0);
                    s.close();
                } catch (IOException ignored) {
                    // Already gone.
                }
            }
        }
    }

    @Override
    public void close() throws Exception {
        server.close();
        drop();
        thread.join(5000);
    }
}
