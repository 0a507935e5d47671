package org.savevm.migration.objects;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;

/**
 * QEMU's {@code tls-creds-x509}: a directory of PEM files under QEMU's names and the checks QEMU's GnuTLS session
 * makes of the peer. As QEMU 7.2 (crypto/tlscredsx509.c) loads them: {@code ca-cert.pem} always; a server needs
 * {@code server-cert.pem} and {@code server-key.pem}; a client may have {@code client-cert.pem} with
 * {@code client-key.pem} (one without the other is refused). With {@code sanity-check=on} (the default) the own
 * certificate and the CA must be valid now and the own certificate signed by the CA. With {@code verify-peer=on}
 * (the default) the peer's certificate must chain to the CA and be valid now, a client checks the server's name
 * against the hostname, and a server demands a client certificate and checks its distinguished name against the
 * migration's {@code tls-authz} list.
 */
public final class TlsCredsX509 implements UserObject {
    public static final String TYPE = "tls-creds-x509";
    public static final String CA_CERT = "ca-cert.pem";
    public static final String SERVER_CERT = "server-cert.pem";
    public static final String SERVER_KEY = "server-key.pem";
    public static final String CLIENT_CERT = "client-cert.pem";
    public static final String CLIENT_KEY = "client-key.pem";
    /** Read by a server only, as QEMU 7.2: the client certificates the CA has revoked. */
    public static final String CA_CRL = "ca-crl.pem";
    /** QEMU's default priority string NORMAL under GnuTLS 3.7 negotiates these. */
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** Above TLS 1.3's 7-day ticket lifetime: JSSE then sends no NewSessionTicket. */
    private static final int NO_TICKETS_TIMEOUT_SECONDS = 7 * 24 * 3600 + 1;

    private final String id;
    private final boolean server;
    private final boolean verifyPeer;
    private final Path dir;
    private final List<X509Certificate> ca;
    private final List<X509Certificate> chain;
    private final PrivateKey key;
    private final List<X509CRL> crls;

    private TlsCredsX509(String id, boolean server, boolean verifyPeer, Path dir, List<X509Certificate> ca,
            List<X509Certificate> chain, PrivateKey key, List<X509CRL> crls) {
        this.id = id;
        this.server = server;
        this.verifyPeer = verifyPeer;
        this.dir = dir;
        this.ca = ca;
        this.chain = chain;
        this.key = key;
        this.crls = crls;
    }

    /**
     * From {@code -object tls-creds-x509,id=ID,dir=DIR,endpoint=server|client,verify-peer=on|off,sanity-check=on|off
     * [,passwordid=SECRET]}; {@code lookup} finds the {@code secret} object that passwordid names (the password of
     * an encrypted private key, as QEMU hands it to gnutls_certificate_set_x509_key_file2).
     */
    static TlsCredsX509 from(ObjectOptions o, Function<String, UserObject> lookup) throws IOException {
        String dirName = o.get("dir");
        boolean server = o.choice("endpoint", "client", "client", "server").equals("server");
        boolean verifyPeer = o.bool("verify-peer", true);
        boolean sanityCheck = o.bool("sanity-check", true);
        String passwordId = o.get("passwordid");
        o.checkAllUsed();
        char[] password = null;
        if (passwordId != null) {
            UserObject secret = lookup.apply(passwordId);
            if (!(secret instanceof Secret sec)) {
                throw new IllegalArgumentException(secret == null ? "No secret with id '" + passwordId + "'"
                        : "Object with id '" + passwordId + "' is not a secret");
            }
            password = sec.utf8();
        }
        if (dirName == null || dirName.isEmpty()) {
            // QEMU's qcrypto_tls_creds_get_path
            throw new IOException("Missing 'dir' property value");
        }
        Path dir = Path.of(dirName);
        List<X509Certificate> ca = PemFiles.certificates(required(dir, CA_CERT));
        Path certFile;
        Path keyFile;
        if (server) {
            certFile = required(dir, SERVER_CERT);
            keyFile = required(dir, SERVER_KEY);
        } else {
            certFile = optional(dir, CLIENT_CERT);
            keyFile = optional(dir, CLIENT_KEY);
            if (certFile != null && keyFile == null) {
                throw new IOException("Cert '" + certFile + "' without corresponding key");
            }
            if (certFile == null && keyFile != null) {
                throw new IOException("Key '" + keyFile + "' without corresponding cert");
            }
        }
        List<X509Certificate> chain = certFile == null ? List.of() : PemFiles.certificates(certFile);
        PrivateKey key;
        try {
            key = keyFile == null ? null : PemFiles.privateKey(keyFile, password);
        } finally {
            if (password != null) {
                java.util.Arrays.fill(password, '\0');
            }
        }
        List<X509CRL> crls = List.of();
        Path crlFile = server ? optional(dir, CA_CRL) : null;
        if (crlFile != null) {
            crls = PemFiles.crls(crlFile);
            checkCrlIssuers(crls, ca, crlFile, dir.resolve(CA_CERT));
        }
        if (sanityCheck) {
            sanityCheck(ca, chain, certFile, dir.resolve(CA_CERT));
        }
        return new TlsCredsX509(o.id(), server, verifyPeer, dir, List.copyOf(ca), List.copyOf(chain), key,
                List.copyOf(crls));
    }

    /** A revocation list counts only when a CA of ca-cert.pem signed it; anything else is refused at load. */
    private static void checkCrlIssuers(List<X509CRL> crls, List<X509Certificate> ca, Path crlFile, Path caFile)
            throws IOException {
        for (X509CRL crl : crls) {
            boolean signed = false;
            for (X509Certificate c : ca) {
                try {
                    crl.verify(c.getPublicKey());
                    signed = true;
                    break;
                } catch (GeneralSecurityException e) {
                    // the next CA of the file may have signed it
                }
            }
            if (!signed) {
                throw new IOException("The revocation list of " + crl.getIssuerX500Principal().getName()
                        + " in " + crlFile + " is not signed by a CA in " + caFile);
            }
        }
    }

    private static Path required(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        if (!Files.isReadable(p)) {
            throw new IOException("Unable to access credentials " + p + ": No such file or directory");
        }
        return p;
    }

    private static Path optional(Path dir, String name) {
        Path p = dir.resolve(name);
        return Files.isReadable(p) ? p : null;
    }

    /** QEMU's qcrypto_tls_creds_x509_sanity_check: validity now, and the own certificate signed by the CA. */
    private static void sanityCheck(List<X509Certificate> ca, List<X509Certificate> chain, Path certFile, Path caFile)
            throws IOException {
        for (X509Certificate c : ca) {
            checkValidity(c, "CA certificate " + caFile);
        }
        if (chain.isEmpty()) {
            return;
        }
        X509Certificate own = chain.get(0);
        checkValidity(own, "The certificate " + certFile);
        X509Certificate last = chain.get(chain.size() - 1);
        for (X509Certificate c : ca) {
            try {
                last.verify(c.getPublicKey());
                return;
            } catch (GeneralSecurityException e) {
                // try the next CA in the file
            }
        }
        if (!ca.contains(last)) {
            throw new IOException("The certificate " + certFile + " is not signed by a CA in " + caFile);
        }
    }

    private static void checkValidity(X509Certificate c, String what) throws IOException {
        try {
            c.checkValidity();
        } catch (CertificateExpiredException e) {
            throw new IOException(what + " has expired (" + c.getNotAfter().toInstant() + ")");
        } catch (CertificateNotYetValidException e) {
            throw new IOException(what + " is not yet active (" + c.getNotBefore().toInstant() + ")");
        }
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return TYPE;
    }

    public boolean server() {
        return server;
    }

    public boolean verifyPeer() {
        return verifyPeer;
    }

    public Path dir() {
        return dir;
    }

    public String endpointName() {
        return server ? "server" : "client";
    }

    /**
     * A context for one client connection: the server's certificate must chain to the CA, be valid now and
     * carry {@code hostname} (as GnuTLS's gnutls_x509_crt_check_hostname: subjectAltName DNS names with a leading
     * wildcard label, IP addresses, the common name when there is no DNS name); nothing is checked with
     * verify-peer=off.
     */
    public SSLContext clientContext(String hostname) throws IOException {
        return context(new PeerCheck(true, hostname, null));
    }

    /**
     * A context for one server connection: with verify-peer=on a client certificate is demanded, must chain to the
     * CA, be valid now, and its distinguished name must pass {@code authz} when one is given.
     */
    public SSLContext serverContext(AuthzList authz) throws IOException {
        return context(new PeerCheck(false, null, authz));
    }

    private SSLContext context(PeerCheck check) throws IOException {
        try {
            KeyManager[] km = null;
            if (key != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                char[] pw = new char[0];
                ks.setKeyEntry("own", key, pw, chain.toArray(new X509Certificate[0]));
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, pw);
                km = kmf.getKeyManagers();
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(km, new TrustManager[] {check}, null);
            if (server) {
                // No TLS 1.3 session tickets: a migration never resumes a session, and a source that never reads
                // its main channel (QEMU without return path) would hold the tickets unread and reset the
                // connection when it closes, destroying the end of the stream still in our receive buffer. JSSE
                // sends no ticket when the session timeout exceeds a ticket's maximum lifetime of 7 days.
                ctx.getServerSessionContext().setSessionTimeout(NO_TICKETS_TIMEOUT_SECONDS);
            }
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("tls-creds-x509 '" + id + "': " + e.getMessage(), e);
        }
    }

    /**
     * The X.509 distinguished name as QEMU 7.2's GnuTLS (gnutls_x509_crt_get_dn) gives it to authz: the RDNs in the
     * certificate's own order, e.g. {@code C=GB,O=Example Org,CN=client.example.com} for an openssl subject
     * {@code /C=GB/O=Example Org/CN=client.example.com} (RFC 4514 would reverse them), with RFC 4514 escapes.
     */
    public static String distinguishedName(X509Certificate c) {
        String rfc = c.getSubjectX500Principal().getName(X500Principal.RFC2253);
        List<String> rdns = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean escaped = false;
        for (char ch : rfc.toCharArray()) {
            if (escaped) {
                cur.append(ch);
                escaped = false;
            } else if (ch == '\\') {
                cur.append(ch);
                escaped = true;
            } else if (ch == ',') {
                rdns.add(0, cur.toString());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        rdns.add(0, cur.toString());
        return String.join(",", rdns);
    }

    /** The checks of QEMU's qcrypto_tls_session_check_certificate, with messages that say which check failed. */
    private final class PeerCheck extends X509ExtendedTrustManager {
        private final boolean serverIsPeer;
        private final String hostname;
        private final AuthzList authz;
        private final X509TrustManager pkix;

        PeerCheck(boolean serverIsPeer, String hostname, AuthzList authz) throws IOException {
            this.serverIsPeer = serverIsPeer;
            this.hostname = hostname;
            this.authz = authz;
            try {
                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                int i = 0;
                for (X509Certificate c : ca) {
                    ts.setCertificateEntry("ca" + i++, c);
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
                tmf.init(ts);
                X509TrustManager found = null;
                for (TrustManager tm : tmf.getTrustManagers()) {
                    if (tm instanceof X509TrustManager x) {
                        found = x;
                    }
                }
                pkix = found;
            } catch (GeneralSecurityException e) {
                throw new IOException("tls-creds-x509 '" + id + "': " + e.getMessage(), e);
            }
        }

        private void check(X509Certificate[] peerChain, String authType) throws CertificateException {
            if (!verifyPeer) {
                return;
            }
            String peer = serverIsPeer ? "server" : "client";
            if (peerChain == null || peerChain.length == 0) {
                throw new CertificateException("No certificate was found from the " + peer);
            }
            X509Certificate leaf = peerChain[0];
            String dn = distinguishedName(leaf);
            try {
                leaf.checkValidity();
            } catch (CertificateExpiredException e) {
                throw new CertificateException("The " + peer + " certificate " + dn + " has expired ("
                        + leaf.getNotAfter().toInstant() + ")", e);
            } catch (CertificateNotYetValidException e) {
                throw new CertificateException("The " + peer + " certificate " + dn + " is not yet active ("
                        + leaf.getNotBefore().toInstant() + ")", e);
            }
            try {
                if (serverIsPeer) {
                    pkix.checkServerTrusted(peerChain, authType);
                } else {
                    pkix.checkClientTrusted(peerChain, authType);
                }
            } catch (CertificateException e) {
                throw new CertificateException("The " + peer + " certificate " + dn + " is not trusted by the CA in "
                        + dir.resolve(CA_CERT) + ": " + e.getMessage(), e);
            }
            for (X509CRL crl : crls) {
                if (crl.isRevoked(leaf)) {
                    throw new CertificateException("The " + peer + " certificate " + dn + " has been revoked ("
                            + dir.resolve(CA_CRL) + ")");
                }
            }
            if (serverIsPeer && !matchesHostname(leaf, hostname)) {
                throw new CertificateException("Certificate does not match the hostname " + hostname
                        + " (server certificate " + dn + ")");
            }
            if (!serverIsPeer && authz != null && !authz.isAllowed(dn)) {
                throw new CertificateException("TLS x509 authz check for " + dn + " is denied (authz-list '"
                        + authz.id() + "')");
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String authType) throws CertificateException {
            check(c, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String authType) throws CertificateException {
            check(c, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String authType, Socket s) throws CertificateException {
            check(c, authType);
            if (s instanceof javax.net.ssl.SSLSocket ssl && ssl.getHandshakeSession() != null) {
                // not resumable, so no TLS 1.3 ticket follows (see the session timeout in context())
                ssl.getHandshakeSession().invalidate();
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String authType, Socket s) throws CertificateException {
            check(c, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String authType, SSLEngine e) throws CertificateException {
            check(c, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String authType, SSLEngine e) throws CertificateException {
            check(c, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return ca.toArray(new X509Certificate[0]);
        }
    }

    /** gnutls_x509_crt_check_hostname's rules, enough for migration peers. */
    static boolean matchesHostname(X509Certificate c, String hostname) throws CertificateParsingException {
        String host = hostname.toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        boolean isIp = host.matches("[0-9.]+") || host.contains(":");
        boolean anyDns = false;
        Collection<List<?>> sans = c.getSubjectAlternativeNames();
        if (sans != null) {
            for (List<?> san : sans) {
                int type = (Integer) san.get(0);
                String value = String.valueOf(san.get(1)).toLowerCase(Locale.ROOT);
                if (type == 2) {
                    anyDns = true;
                    if (!isIp && dnsMatches(value, host)) {
                        return true;
                    }
                } else if (type == 7 && isIp && sameAddress(value, host)) {
                    return true;
                }
            }
        }
        if (anyDns) {
            return false;
        }
        // no DNS name in subjectAltName: the common name
        for (String rdn : distinguishedName(c).split(",")) {
            if (rdn.regionMatches(true, 0, "CN=", 0, 3) && dnsMatches(rdn.substring(3).toLowerCase(Locale.ROOT), host)) {
                return true;
            }
        }
        return false;
    }

    private static boolean dnsMatches(String pattern, String host) {
        if (pattern.startsWith("*.")) {
            int dot = host.indexOf('.');
            return dot > 0 && host.substring(dot).equals(pattern.substring(1));
        }
        return pattern.equals(host);
    }

    private static boolean sameAddress(String a, String b) {
        try {
            // both are literals: no name lookup happens
            return InetAddress.getByName(a).equals(InetAddress.getByName(b));
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return TYPE + " '" + id + "' (" + endpointName() + ", " + dir + ", verify-peer=" + (verifyPeer ? "on" : "off") + ")";
    }

    /** Every certificate of the CA file, for messages and tests. */
    public List<X509Certificate> caCertificates() {
        return new ArrayList<>(ca);
    }
}
