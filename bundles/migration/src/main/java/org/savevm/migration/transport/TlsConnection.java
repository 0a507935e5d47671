package org.savevm.migration.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * A migration socket inside a TLS session. Reads and writes may come from different threads (the stream and the
 * return path). With TLS 1.3 a server refuses a client's certificate only after the client finished its handshake,
 * so the source learns of it from the server's alert later: a failed write and the end of the stream look for that
 * alert, so that a refused source fails naming it instead of reporting success or a bare broken pipe.
 */
final class TlsConnection implements Connection {
    private static final System.Logger LOG = System.getLogger(TlsConnection.class.getName());
    /** How long the source waits at the end for the destination's close or alert. */
    private static final int END_WAIT_MILLIS = 10_000;
    /** How long a failed write waits for the alert that explains it. */
    private static final int ALERT_WAIT_MILLIS = 2_000;

    private final SocketChannel socket;
    private final SSLSocket ssl;
    private final boolean client;
    private final WritableByteChannel out;
    private final ReadableByteChannel in;

    TlsConnection(SocketChannel socket, SSLSocket ssl, boolean client) throws IOException {
        this.socket = socket;
        this.ssl = ssl;
        this.client = client;
        OutputStream os = ssl.getOutputStream();
        this.out = new WritableByteChannel() {
            private final WritableByteChannel plain = Channels.newChannel(os);

            @Override
            public int write(ByteBuffer src) throws IOException {
                try {
                    return plain.write(src);
                } catch (IOException e) {
                    throw explain(e);
                }
            }

            @Override
            public boolean isOpen() {
                return socket.isOpen();
            }

            @Override
            public void close() {
                // as closing a SocketChannel closes the socket: the multifd channels hold only this end
                abort();
            }
        };
        ReadableByteChannel plainIn = Channels.newChannel(ssl.getInputStream());
        this.in = new ReadableByteChannel() {
            @Override
            public int read(ByteBuffer dst) throws IOException {
                return plainIn.read(dst);
            }

            @Override
            public boolean isOpen() {
                return socket.isOpen();
            }

            @Override
            public void close() {
                abort();
            }
        };
    }

    @Override
    public WritableByteChannel output() {
        return out;
    }

    @Override
    public ReadableByteChannel input() {
        return in;
    }

    /** The peer's alert behind a failed write, when it sent one. */
    private IOException explain(IOException e) {
        if (e instanceof SSLException && String.valueOf(e.getMessage()).contains("alert")) {
            return new IOException("TLS: " + Tls.reason(e), e);
        }
        try {
            ssl.setSoTimeout(ALERT_WAIT_MILLIS);
            ssl.getInputStream().read();
        } catch (SSLException alert) {
            return new IOException("TLS: " + Tls.reason(alert), e);
        } catch (IOException other) {
            // nothing more to learn
        }
        if (client) {
            // QEMU's GnuTLS refuses a client (tls-authz, CA) by closing without an alert
            return new IOException("TLS: the destination closed the session (" + e.getMessage()
                    + "); if it happens at the start, it may have refused our certificate: check its CA and tls-authz", e);
        }
        return e;
    }

    @Override
    public void finishOutput() throws IOException {
        ssl.getOutputStream().flush();
        // TLS 1.3 has half-close: close_notify ends the stream and the return path stays open; TLS 1.2 does not
        if ("TLSv1.3".equals(ssl.getSession().getProtocol())) {
            ssl.shutdownOutput();
        }
    }

    @Override
    public void abort() {
        try {
            socket.shutdownInput();
            socket.shutdownOutput();
        } catch (IOException ignored) {
            // already broken: that is what abort wants
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // the point is only to unblock I/O
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (client) {
                awaitPeerEnd();
            }
        } finally {
            abort();
        }
    }

    /**
     * The source's last look at the session: the destination closes it after loading, or sends the alert with
     * which it refused our certificate; either comes within moments of the stream's end.
     */
    private void awaitPeerEnd() throws IOException {
        try {
            ssl.setSoTimeout(END_WAIT_MILLIS);
            InputStream is = ssl.getInputStream();
            byte[] b = new byte[256];
            while (is.read(b) >= 0) {
                // the return path is read elsewhere; anything left here is not ours to interpret
            }
        } catch (SocketTimeoutException e) {
            LOG.log(System.Logger.Level.DEBUG, "TLS peer still open " + END_WAIT_MILLIS + " ms after the stream ended");
        } catch (SSLException e) {
            if (String.valueOf(e.getMessage()).contains("alert")) {
                throw new IOException("TLS: " + Tls.reason(e), e);
            }
        } catch (IOException e) {
            // reset or closed: the stream was delivered, how the peer went away does not matter
        }
    }
}
