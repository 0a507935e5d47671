package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.objects.AuthzList;
import org.savevm.migration.objects.ObjectOptions;
import org.savevm.migration.objects.TlsCredsX509;
import org.savevm.migration.objects.UserObjects;

/**
 * QEMU's -object syntax and the two object types: which files tls-creds-x509 needs per endpoint (as QEMU 7.2's
 * tlscredsx509.c), the three PEM key forms, the sanity check, authz-list's rules (exact, glob, first match, default
 * policy), and the tls-* parameters as migrate-set-parameter and info-migrate show them.
 */
class TlsObjectsTest {
    @TempDir
    static Path dir;
    private static TlsCerts certs;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = TlsCerts.make(dir);
    }

    @Test
    void optionsParseQemusSyntax() {
        ObjectOptions o = ObjectOptions.parse("authz-list,id=a,rules.0.match=CN=x,,O=y,rules.0.policy=allow");
        assertEquals("authz-list", o.type());
        assertEquals("a", o.id());
        assertEquals("CN=x,O=y", o.get("rules.0.match"));
        assertEquals("tls-creds-x509", ObjectOptions.parse("qom-type=tls-creds-x509,id=t").type());
        assertEquals("Parameter 'id' is missing",
                assertThrows(IllegalArgumentException.class, () -> ObjectOptions.parse("authz-list")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ObjectOptions.parse("authz-list,id=a,id=b"))
                .getMessage().contains("twice"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ObjectOptions.parse("authz-list,id=a,novalue"))
                .getMessage().contains("KEY=VALUE"));
    }

    @Test
    void authzListFirstMatchDecidesElseThePolicy() throws Exception {
        UserObjects objects = new UserObjects();
        AuthzList a = (AuthzList) objects.add("authz-list,id=a,rules.0.match=CN=bad*,rules.0.format=glob,"
                + "rules.0.policy=deny,rules.1.match=*O=Example,,CN=*,rules.1.format=glob,rules.1.policy=allow,"
                + "rules.2.match=C=GB,,CN=exact,rules.2.policy=allow");
        assertTrue(a.isAllowed("C=GB,O=Example,CN=laptop"));
        assertFalse(a.isAllowed("CN=badlaptop,O=Example,CN=x"), "the first matching rule decides");
        assertTrue(a.isAllowed("C=GB,CN=exact"));
        assertFalse(a.isAllowed("C=GB,CN=exact2"), "exact is exact; the default policy is deny");
        AuthzList open = (AuthzList) objects.add("authz-list,id=b,policy=allow");
        assertTrue(open.isAllowed("anyone"));
        assertThrows(IllegalArgumentException.class, () -> objects.add("authz-list,id=c,rules.0.match=x"));
        assertThrows(IllegalArgumentException.class, () -> objects.add("authz-list,id=d,policy=maybe"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> objects.add("authz-list,id=a"))
                .getMessage().contains("duplicate"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> objects.add("memory-backend-ram,id=s,size=1M"))
                .getMessage().contains("qom-type"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> objects.add("authz-list,id=e,colour=red"))
                .getMessage().contains("Property 'authz-list.colour' not found"));
    }

    @Test
    void aServerNeedsItsCertificateAndKeyAClientNeither() throws Exception {
        UserObjects objects = new UserObjects();
        Path server = certs.serverDir("files-server", "ca", "server");
        TlsCredsX509 s = (TlsCredsX509) objects.add("tls-creds-x509,id=s,endpoint=server,dir=" + server);
        assertTrue(s.server() && s.verifyPeer());
        Path onlyCa = certs.clientDir("files-client", "ca", null);
        TlsCredsX509 c = (TlsCredsX509) objects.add("tls-creds-x509,id=c,dir=" + onlyCa);
        assertFalse(c.server(), "endpoint defaults to client");
        // a server without its key
        Path noKey = certs.serverDir("files-nokey", "ca", "server");
        Files.delete(noKey.resolve("server-key.pem"));
        assertTrue(assertThrows(IOException.class, () -> objects.add("tls-creds-x509,id=n,endpoint=server,dir=" + noKey))
                .getMessage().contains("server-key.pem"));
        // every endpoint needs the CA
        Path noCa = certs.clientDir("files-noca", "ca", "client");
        Files.delete(noCa.resolve("ca-cert.pem"));
        assertTrue(assertThrows(IOException.class, () -> objects.add("tls-creds-x509,id=m,dir=" + noCa))
                .getMessage().contains("ca-cert.pem"));
        // a client certificate without its key
        Path half = certs.clientDir("files-half", "ca", "client");
        Files.delete(half.resolve("client-key.pem"));
        assertTrue(assertThrows(IOException.class, () -> objects.add("tls-creds-x509,id=h,dir=" + half))
                .getMessage().contains("without corresponding key"));
        assertEquals("Missing 'dir' property value",
                assertThrows(IOException.class, () -> objects.add("tls-creds-x509,id=x")).getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> objects.add("tls-creds-x509,id=y,endpoint=both,dir=" + server));
    }

    /**
     * An encrypted PKCS#8 key and QEMU's secret object: passwordid names the secret, given as data, as a file, as
     * base64, or itself encrypted under a master key (keyid, iv); without it, or with a wrong one, the key is
     * refused with a message that says which.
     */
    @Test
    void anEncryptedKeyLoadsWithThePasswordOfItsSecret() throws Exception {
        Path enc = certs.serverDir("encrypted", "ca", "server");
        Files.copy(certs.encryptedKey("server", "pass word"), enc.resolve("server-key.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(Files.readString(enc.resolve("server-key.pem")).contains("BEGIN ENCRYPTED PRIVATE KEY"));
        UserObjects objects = new UserObjects();

        String noPassword = assertThrows(IOException.class,
                () -> objects.add("tls-creds-x509,id=t0,endpoint=server,dir=" + enc)).getMessage();
        assertTrue(noPassword.contains("encrypted") && noPassword.contains("passwordid"), noPassword);
        assertEquals("No secret with id 'nope'", assertThrows(IllegalArgumentException.class,
                () -> objects.add("tls-creds-x509,id=t0,endpoint=server,passwordid=nope,dir=" + enc)).getMessage());

        objects.add("secret,id=wrong,data=pass-word");
        String wrong = assertThrows(IOException.class,
                () -> objects.add("tls-creds-x509,id=t0,endpoint=server,passwordid=wrong,dir=" + enc)).getMessage();
        assertTrue(wrong.contains("wrong password"), wrong);

        objects.add("secret,id=plain,data=pass word");
        objects.add("tls-creds-x509,id=t1,endpoint=server,passwordid=plain,dir=" + enc);
        Path file = dir.resolve("password.txt");
        Files.writeString(file, "pass word");
        objects.add("secret,id=fromfile,file=" + file);
        objects.add("tls-creds-x509,id=t2,endpoint=server,passwordid=fromfile,dir=" + enc);
        String b64 = java.util.Base64.getEncoder().encodeToString("pass word".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        objects.add("secret,id=b64,format=base64,data=" + b64);
        objects.add("tls-creds-x509,id=t3,endpoint=server,passwordid=b64,dir=" + enc);

        // QEMU's encrypted secret: AES-256-CBC under a 32-byte master key, iv and ciphertext in base64
        byte[] master = new byte[32];
        new java.util.Random(5).nextBytes(master);
        byte[] iv = new byte[16];
        new java.util.Random(6).nextBytes(iv);
        javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("AES/CBC/PKCS5Padding");
        c.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(master, "AES"),
                new javax.crypto.spec.IvParameterSpec(iv));
        String ct = java.util.Base64.getEncoder().encodeToString(c.doFinal("pass word".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        java.util.Base64.Encoder e = java.util.Base64.getEncoder();
        objects.add("secret,id=master,format=base64,data=" + e.encodeToString(master));
        objects.add("secret,id=sealed,keyid=master,iv=" + e.encodeToString(iv) + ",data=" + ct);
        objects.add("tls-creds-x509,id=t4,endpoint=server,passwordid=sealed,dir=" + enc);
        assertTrue(objects.find("sealed").orElseThrow().toString().indexOf("pass") < 0, "a secret never shows its value");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> objects.add("secret,id=s2,keyid=plain,iv="
                + e.encodeToString(iv) + ",data=" + ct)).getMessage().contains("not the 32 of an AES-256 key"));
        byte[] otherIv = iv.clone();
        otherIv[0] ^= 1;
        // a different iv changes only the first block of the plaintext: the padding still checks, the password not
        objects.add("secret,id=s3,keyid=master,iv=" + e.encodeToString(otherIv) + ",data=" + ct);
        assertTrue(assertThrows(IOException.class,
                () -> objects.add("tls-creds-x509,id=t5,endpoint=server,passwordid=s3,dir=" + enc)).getMessage()
                .contains("wrong password"));
        assertEquals("'file' and 'data' are mutually exclusive", assertThrows(IllegalArgumentException.class,
                () -> objects.add("secret,id=s4,data=x,file=" + file)).getMessage());
        assertEquals("Either 'file' or 'data' must be provided", assertThrows(IllegalArgumentException.class,
                () -> objects.add("secret,id=s5")).getMessage());
    }

    @Test
    void keysInEveryPemFormOpensslWrites() throws Exception {
        // server key: PKCS#1 (BEGIN RSA PRIVATE KEY); client key: SEC1 (BEGIN EC PRIVATE KEY); CA key: PKCS#8
        assertTrue(Files.readString(certs.file("server-key.pem")).contains("BEGIN RSA PRIVATE KEY"));
        assertTrue(Files.readString(certs.file("client-key.pem")).contains("BEGIN EC PRIVATE KEY"));
        assertTrue(Files.readString(certs.file("ca-key.pem")).contains("BEGIN PRIVATE KEY"));
        UserObjects objects = new UserObjects();
        objects.add("tls-creds-x509,id=rsa,endpoint=server,dir=" + certs.serverDir("pkcs1", "ca", "server"));
        objects.add("tls-creds-x509,id=ec,endpoint=client,dir=" + certs.clientDir("sec1", "ca", "client"));
        // a PKCS#8 key: the CA's own certificate and key as a server's
        Path pkcs8 = Files.createDirectories(dir.resolve("pkcs8"));
        Files.copy(certs.file("ca-cert.pem"), pkcs8.resolve("ca-cert.pem"));
        Files.copy(certs.file("ca-cert.pem"), pkcs8.resolve("server-cert.pem"));
        Files.copy(certs.file("ca-key.pem"), pkcs8.resolve("server-key.pem"));
        objects.add("tls-creds-x509,id=p8,endpoint=server,dir=" + pkcs8);
        assertEquals(3, objects.list().size());
        assertTrue(objects.tlsCreds("ec", false).toString().contains("client"));
        // a key file that is no key
        Path bad = certs.serverDir("badkey", "ca", "server");
        Files.writeString(bad.resolve("server-key.pem"), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertTrue(assertThrows(IOException.class, () -> objects.add("tls-creds-x509,id=b,endpoint=server,dir=" + bad))
                .getMessage().contains("Cannot load key"));
    }

    @Test
    void theSanityCheckRefusesAnExpiredOwnCertificateUnlessSwitchedOff() throws Exception {
        UserObjects objects = new UserObjects();
        Path expired = certs.serverDir("sanity-expired", "ca", "expired-server");
        assertTrue(assertThrows(IOException.class, () -> objects.add("tls-creds-x509,id=e,endpoint=server,dir=" + expired))
                .getMessage().contains("has expired"));
        objects.add("tls-creds-x509,id=e,endpoint=server,sanity-check=off,dir=" + expired);
        Path foreign = certs.serverDir("sanity-foreign", "ca", "rogue-server");
        assertTrue(assertThrows(IOException.class, () -> objects.add("tls-creds-x509,id=f,endpoint=server,dir=" + foreign))
                .getMessage().contains("is not signed by a CA"));
    }

    @Test
    void theClientNameIsInGnuTlsOrder() throws Exception {
        java.security.cert.X509Certificate c = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory
                .getInstance("X.509").generateCertificate(Files.newInputStream(certs.file("client-cert.pem")));
        assertEquals(TlsCerts.CLIENT_DN, TlsCredsX509.distinguishedName(c));
    }

    @Test
    void tlsParametersAreStringsShownByInfoMigrate() {
        MigrationManager m = new MigrationManager(new FakeSaveVm(0, 1), new FakeGuest(false));
        assertEquals("", m.config().text("tls-creds"));
        m.setParameter("tls-creds", "tls0");
        m.setParameter("tls-hostname", "dst.example.com");
        m.setParameter("tls-authz", "auth0");
        assertEquals(java.util.Map.of("tls-creds", "tls0", "tls-hostname", "dst.example.com", "tls-authz", "auth0"),
                m.config().textParameters());
        m.setParameter("tls-creds", "");
        assertEquals("", m.config().text("tls-creds"));
        assertThrows(IllegalArgumentException.class, () -> m.setParameter("tls-hostname", "a\u001b[2Jb"));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        new org.savevm.migration.commands.InfoMigrateCommand(m).run(java.util.List.of("--parameters"),
                new java.io.PrintStream(out), System.err);
        assertTrue(out.toString().contains("tls-hostname: dst.example.com"), out.toString());
    }
}
