package org.savevm.migration;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * Certificates made with the {@code openssl} command for the TLS tests, in directories laid out as QEMU's
 * tls-creds-x509 wants them ({@code ca-cert.pem}, {@code server-cert.pem}, {@code server-key.pem},
 * {@code client-cert.pem}, {@code client-key.pem}). The keys come in the three PEM forms QEMU reads: the server's is
 * PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}), the client's SEC1 EC ({@code BEGIN EC PRIVATE KEY}), the CAs' PKCS#8.
 */
final class TlsCerts {
    /** As QEMU's GnuTLS prints the subject /C=GB/O=savevm tests/CN=client.example.com for authz. */
    static final String CLIENT_DN = "C=GB,O=savevm tests,CN=client.example.com";
    static final String OTHER_CLIENT_DN = "C=GB,O=elsewhere,CN=intruder.example.com";

    final Path root;

    private TlsCerts(Path root) {
        this.root = root;
    }

    static boolean opensslInstalled() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "openssl"))) {
                return true;
            }
        }
        return false;
    }

    /** Skips the calling test (with a message) when openssl is missing. */
    static TlsCerts make(Path root) throws Exception {
        Assumptions.assumeTrue(opensslInstalled(), "openssl is not installed: skipping the TLS test");
        TlsCerts c = new TlsCerts(root);
        c.ca("ca");
        c.ca("other-ca");
        c.leaf("ca", "server", "/C=GB/O=savevm tests/CN=localhost", "serverAuth",
                "DNS:localhost,IP:127.0.0.1", false, null);
        c.leaf("ca", "client", "/C=GB/O=savevm tests/CN=client.example.com", "clientAuth", null, true, null);
        c.leaf("ca", "intruder", "/C=GB/O=elsewhere/CN=intruder.example.com", "clientAuth", null, true, null);
        c.leaf("other-ca", "rogue-server", "/C=GB/O=savevm tests/CN=localhost", "serverAuth",
                "DNS:localhost,IP:127.0.0.1", false, null);
        c.leaf("ca", "wrong-name", "/C=GB/O=savevm tests/CN=elsewhere.example.com", "serverAuth",
                "DNS:elsewhere.example.com,IP:192.0.2.1", false, null);
        c.leaf("ca", "expired-server", "/C=GB/O=savevm tests/CN=localhost", "serverAuth",
                "DNS:localhost,IP:127.0.0.1", false, new String[] {"20200101000000Z", "20200102000000Z"});
        return c;
    }

    /** A server credentials directory: the CA named {@code caName}, the server cert and key of {@code leafName}. */
    Path serverDir(String name, String caName, String leafName) throws IOException {
        Path d = Files.createDirectories(root.resolve("creds-" + name));
        copy(caName + "-cert.pem", d.resolve("ca-cert.pem"));
        copy(leafName + "-cert.pem", d.resolve("server-cert.pem"));
        copy(leafName + "-key.pem", d.resolve("server-key.pem"));
        return d;
    }

    /** A client credentials directory: the CA, and the client cert and key of {@code leafName} unless null. */
    Path clientDir(String name, String caName, String leafName) throws IOException {
        Path d = Files.createDirectories(root.resolve("creds-" + name));
        copy(caName + "-cert.pem", d.resolve("ca-cert.pem"));
        if (leafName != null) {
            copy(leafName + "-cert.pem", d.resolve("client-cert.pem"));
            copy(leafName + "-key.pem", d.resolve("client-key.pem"));
        }
        return d;
    }

    Path file(String name) {
        return root.resolve(name);
    }

    private void copy(String from, Path to) throws IOException {
        Files.copy(root.resolve(from), to, StandardCopyOption.REPLACE_EXISTING);
    }

    private void ca(String name) throws Exception {
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name + "-key.pem");
        openssl("req", "-x509", "-new", "-key", name + "-key.pem", "-days", "30", "-subj", "/C=GB/O=savevm tests/CN=" + name,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", name + "-cert.pem");
    }

    /**
     * A certificate signed by {@code caName}: RSA in PKCS#1 form, or EC P-256 in SEC1 form; {@code dates} gives a
     * validity in the past (through {@code openssl ca}, the only openssl 3.0 command that takes explicit dates).
     */
    private void leaf(String caName, String name, String subject, String usage, String san, boolean ec, String[] dates)
            throws Exception {
        if (ec) {
            openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name + "-key.pem");
        } else {
            openssl("genrsa", "-traditional", "-out", name + "-key.pem", "2048");
        }
        openssl("req", "-new", "-key", name + "-key.pem", "-subj", subject, "-out", name + ".csr");
        List<String> ext = new ArrayList<>(List.of("basicConstraints=CA:FALSE",
                "keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=" + usage));
        if (san != null) {
            ext.add("subjectAltName=" + san);
        }
        Files.write(root.resolve(name + ".ext"), ext);
        if (dates == null) {
            openssl("x509", "-req", "-in", name + ".csr", "-CA", caName + "-cert.pem", "-CAkey", caName + "-key.pem",
                    "-CAcreateserial", "-days", "10", "-extfile", name + ".ext", "-out", name + "-cert.pem");
            return;
        }
        Path db = Files.createDirectories(root.resolve(name + "-db"));
        Files.writeString(db.resolve("index.txt"), "");
        Files.writeString(db.resolve("serial"), "1000\n");
        Files.writeString(root.resolve(name + "-ca.cnf"), "[ca]\ndefault_ca=d\n[d]\ndatabase=" + db.resolve("index.txt")
                + "\nnew_certs_dir=" + db + "\nserial=" + db.resolve("serial") + "\ndefault_md=sha256\npolicy=p\n"
                + "unique_subject=no\n[p]\ncountryName=optional\norganizationName=optional\ncommonName=supplied\n"
                + "[x]\n" + String.join("\n", ext) + "\n");
        openssl("ca", "-batch", "-config", name + "-ca.cnf", "-cert", caName + "-cert.pem", "-keyfile",
                caName + "-key.pem", "-in", name + ".csr", "-out", name + "-cert.pem", "-notext", "-extensions", "x",
                "-startdate", dates[0], "-enddate", dates[1]);
    }

    /**
     * {@code caName}'s revocation list with the certificates of {@code revoked} on it, as {@code caName-crl.pem}
     * (openssl ca -revoke into a fresh database, then -gencrl); returns the file.
     */
    Path crl(String caName, String... revoked) throws Exception {
        Path db = Files.createDirectories(root.resolve(caName + "-crl-db"));
        Files.writeString(db.resolve("index.txt"), "");
        Files.writeString(db.resolve("crlnumber"), "01\n");
        Path cnf = root.resolve(caName + "-crl.cnf");
        Files.writeString(cnf, "[ca]\ndefault_ca=d\n[d]\ndatabase=" + db.resolve("index.txt") + "\ncrlnumber="
                + db.resolve("crlnumber") + "\ndefault_md=sha256\ndefault_crl_days=10\n");
        for (String name : revoked) {
            openssl("ca", "-config", cnf.toString(), "-cert", caName + "-cert.pem", "-keyfile", caName + "-key.pem",
                    "-revoke", name + "-cert.pem");
        }
        openssl("ca", "-gencrl", "-config", cnf.toString(), "-cert", caName + "-cert.pem", "-keyfile",
                caName + "-key.pem", "-out", caName + "-crl.pem");
        return root.resolve(caName + "-crl.pem");
    }

    /** {@code name}'s key as encrypted PKCS#8 (PBES2, AES-256) under {@code password}, as {@code name-key-enc.pem}. */
    Path encryptedKey(String name, String password) throws Exception {
        openssl("pkcs8", "-topk8", "-v2", "aes256", "-in", name + "-key.pem", "-passout", "pass:" + password, "-out",
                name + "-key-enc.pem");
        return root.resolve(name + "-key-enc.pem");
    }

    private void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed: " + new String(out));
        }
    }
}
