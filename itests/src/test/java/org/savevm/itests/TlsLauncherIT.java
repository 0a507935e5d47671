package org.savevm.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS from the command line, as a user sets it up: two {@code savevm.jar} processes given QEMU's
 * {@code --object tls-creds-x509,...} and {@code --object authz-list,...}, the parameters set in the shell, migrate with
 * equal RAM hashes; a source whose certificate name the destination's authz list does not allow is refused and keeps
 * running; an object whose files are missing ends the launcher with QEMU's message.
 */
class TlsLauncherIT {
    @TempDir
    Path work;

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + ": " + out);
        }
    }

    /** A CA and, signed by it, the server's and one client's certificate, in QEMU's two directory layouts. */
    private static void certificates(Path dir, String clientCn) throws Exception {
        Assumptions.assumeTrue(TestHost.onPath("openssl"), "openssl is not installed: skipping the TLS launcher test");
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca-cert.pem",
                "-days", "2", "-subj", "/C=GB/O=savevm tests/CN=ca", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        for (String[] leaf : new String[][] {{"server", "localhost"}, {"client", clientCn}}) {
            openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", leaf[0] + "-key.pem", "-out", leaf[0] + ".csr",
                    "-subj", "/C=GB/O=savevm tests/CN=" + leaf[1]);
            openssl(dir, "x509", "-req", "-in", leaf[0] + ".csr", "-CA", "ca-cert.pem", "-CAkey", "ca-key.pem",
                    "-CAcreateserial", "-days", "2", "-extfile", leaf[0] + ".ext", "-out", leaf[0] + "-cert.pem");
        }
        for (String side : new String[] {"server", "client"}) {
            Path d = Files.createDirectories(dir.resolve(side + "-creds"));
            Files.copy(dir.resolve("ca-cert.pem"), d.resolve("ca-cert.pem"));
            Files.copy(dir.resolve(side + "-cert.pem"), d.resolve(side + "-cert.pem"));
            Files.copy(dir.resolve(side + "-key.pem"), d.resolve(side + "-key.pem"));
        }
    }

    private void migrate(String clientCn, boolean allowed) throws Exception {
        Path certs = Files.createDirectories(work.resolve("certs-" + clientCn));
        certificates(certs, clientCn);
        int port = TestHost.freePort();
        try (SavevmShell dst = new SavevmShell(work, List.of(),
                "--object", "tls-creds-x509,id=tls0,dir=" + certs.resolve("server-creds") + ",endpoint=server,verify-peer=on",
                "--object", "authz-list,id=auth0,policy=deny,rules.0.match=C=GB,,O=savevm tests,,CN=src.example.com,"
                        + "rules.0.policy=allow");
                SavevmShell src = new SavevmShell(work, List.of(),
                        "--object", "tls-creds-x509,id=tls0,dir=" + certs.resolve("client-creds") + ",endpoint=client")) {
            dst.run("migrate-set-parameter tls-creds tls0");
            dst.run("migrate-set-parameter tls-authz auth0");
            assertTrue(dst.run("info-migrate --parameters").contains("tls-authz: auth0"));
            dst.run("incoming -d -S tcp:127.0.0.1:" + port);
            src.run("guest rate 8M");
            src.run("guest resume");
            Thread.sleep(300);
            src.run("guest rate 0");
            String hash = src.ramHash();
            src.run("migrate-set-parameter tls-creds tls0");
            src.run("migrate-set-capability return-path on");
            String out = src.run("migrate tcp:localhost:" + port, 120);
            if (allowed) {
                assertTrue(out.contains("status: completed"), out + src.output());
                dst.awaitStatus(60, "completed");
                assertEquals(hash, dst.ramHash());
            } else {
                assertTrue(out.contains("status: failed"), out + src.output());
                String d = dst.awaitStatus(60, "failed");
                assertTrue(d.contains("TLS x509 authz check for C=GB,O=savevm tests,CN=" + clientCn + " is denied"), d);
                assertTrue(src.run("guest status").contains("guest running"));
                assertEquals(hash, src.ramHash());
            }
        }
    }

    @Test
    void twoProcessesMigrateOverTlsSetUpWithQemusObjects() throws Exception {
        migrate("src.example.com", true);
    }

    @Test
    void aSourceNameNotInTheAuthzListIsRefused() throws Exception {
        migrate("intruder.example.com", false);
    }

    @Test
    void anObjectWithoutItsFilesEndsTheLauncher() throws Exception {
        try (LauncherProcess p = new LauncherProcess(work, "--object",
                "tls-creds-x509,id=tls0,dir=" + work.resolve("nothing") + ",endpoint=server", "info-migrate")) {
            assertEquals(1, p.exitWithin(120));
            assertTrue(p.err().contains("Unable to access credentials") && p.err().contains("ca-cert.pem"), p.err());
        }
    }
}
