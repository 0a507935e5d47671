package org.savevm.migration.transport;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.security.cert.CertificateException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import org.savevm.migration.objects.AuthzList;
import org.savevm.migration.objects.TlsCredsX509;

/**
 * TLS on a migration socket, as QEMU 7.2's migration/tls.c does it: every channel (the main stream with its return
 * path, and each multifd channel) runs its own TLS session, set up right after connect or accept and before any
 * stream byte. The client checks the server's certificate against {@code tls-hostname} (by default the URI's host),
 * the server the client's distinguished name against {@code tls-authz}. A peer that does not complete the handshake
 * within the handshake timeout fails the channel.
 */
public final class Tls {
    /** How long a handshake may take unless the caller says otherwise. */
    public static final long DEFAULT_HANDSHAKE_MILLIS = 30_000;
    /** How long a refused peer's bytes are read and dropped before the socket closes. */
    private static final long DRAIN_MILLIS = 2_000;

    private final TlsCredsX509 creds;
    private final String hostname;
    private final AuthzList authz;
    private final long handshakeMillis;

    private Tls(TlsCredsX509 creds, String hostname, AuthzList authz, long handshakeMillis) {
        this.creds = creds;
        this.hostname = hostname;
        this.authz = authz;
        this.handshakeMillis = handshakeMillis;
    }

    /** The source's side: {@code hostname} is what the server's certificate must name. */
    public static Tls client(TlsCredsX509 creds, String hostname, long handshakeMillis) {
        if (creds.server()) {
            throw new IllegalArgumentException("Expected TLS credentials for a client endpoint");
        }
        if (hostname == null || hostname.isEmpty()) {
            throw new IllegalArgumentException("No hostname available for TLS");
        }
        return new Tls(creds, hostname, null, handshakeMillis);
    }

    /** The destination's side: {@code authz} (may be null) decides which client names are let in. */
    public static Tls server(TlsCredsX509 creds, AuthzList authz, long handshakeMillis) {
        if (!creds.server()) {
            throw new IllegalArgumentException("Expected TLS credentials for a server endpoint");
        }
        return new Tls(creds, null, authz, handshakeMillis);
    }

    public boolean isServer() {
        return creds.server();
    }

    /** Runs the handshake on a connected blocking socket; on failure the socket is closed. */
    Connection secure(SocketChannel ch) throws IOException {
        String peer = peerName(ch);
        SSLSocket ssl = null;
        try {
            SSLContext ctx = creds.server() ? creds.serverContext(authz) : creds.clientContext(hostname);
            // not autoClose: a failed handshake must not reset the socket under the alert that explains it
            ssl = (SSLSocket) ctx.getSocketFactory().createSocket(ch.socket(), creds.server() ? null : hostname,
                    ch.socket().getPort(), false);
            ssl.setUseClientMode(!creds.server());
            SSLParameters p = ssl.getSSLParameters();
            p.setProtocols(TlsCredsX509.PROTOCOLS);
            if (creds.server()) {
                p.setNeedClientAuth(creds.verifyPeer());
            }
            ssl.setSSLParameters(p);
            ssl.setSoTimeout((int) Math.min(Integer.MAX_VALUE, handshakeMillis));
            ssl.startHandshake();
            ssl.setSoTimeout(0);
            return new TlsConnection(ch, ssl, !creds.server());
        } catch (IOException | RuntimeException e) {
            closeAfterAlert(ch);
            throw new IOException("TLS handshake with " + peer + " (" + creds.endpointName() + ", "
                    + TlsCredsX509.TYPE + " '" + creds.id() + "') failed: "
                    + (e instanceof SocketTimeoutException ? "the peer did not complete it within " + handshakeMillis + " ms"
                            : reason(e)), e);
        }
    }

    /**
     * After a refused handshake: our alert is sent; the peer may still be writing (with TLS 1.3 a client refused by
     * the server has finished its side and streams), and closing with its bytes unread would reset the connection and
     * could destroy the alert before the peer reads it. So the output is shut and the input drained briefly first.
     */
    private static void closeAfterAlert(SocketChannel ch) {
        try {
            ch.shutdownOutput();
            ch.socket().setSoTimeout(200);
            java.io.InputStream in = ch.socket().getInputStream();
            byte[] b = new byte[64 * 1024];
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS);
            while (System.nanoTime() < end) {
                try {
                    if (in.read(b) < 0) {
                        break;
                    }
                } catch (SocketTimeoutException quiet) {
                    // the peer may still be reading our alert: keep waiting for its close
                }
            }
        } catch (IOException ignored) {
            // timeout, reset or closed: nothing more to wait for
        } finally {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the handshake's failure is what counts
            }
        }
    }

    private static String peerName(SocketChannel ch) {
        try {
            return String.valueOf(ch.getRemoteAddress()).replaceFirst("^[^/]*/", "");
        } catch (IOException e) {
            return "the peer";
        }
    }

    /** The most telling message: our own certificate check's words when one failed, else the TLS error's. */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateException && t.getMessage() != null) {
                return t.getMessage();
            }
        }
        // JSSE's outer messages are sometimes only where it failed (readHandshakeRecord): the causes say why
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null && b.length() < 400; t = t.getCause()) {
            String tm = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            if (b.indexOf(tm) < 0) {
                b.append(b.length() == 0 ? "" : ": ").append(tm);
            }
        }
        String m = b.toString();
        if (m.contains("Received fatal alert")) {
            return m + " (the peer refused the session: its CA, verify-peer or tls-authz does not accept ours)";
        }
        return m;
    }
}
