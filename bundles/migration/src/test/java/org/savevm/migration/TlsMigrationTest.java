package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.multifd.MultifdWire;
import org.savevm.migration.objects.UserObjects;
import org.savevm.migration.outgoing.OutgoingMigration;

/**
 * savevm to savevm over TLS, both ends set up as QEMU's are ({@code -object tls-creds-x509}, {@code tls-creds},
 * {@code tls-authz}): a migration with the return path and two multifd channels completes and nothing of the stream
 * travels in clear on any connection; a wrong CA, an expired certificate, a hostname mismatch and a client name that
 * the authz list does not allow each fail both ends with a message saying so, the destination loads nothing and
 * does not run, and the source keeps running.
 */
class TlsMigrationTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    static Path dir;
    private static TlsCerts certs;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = TlsCerts.make(dir);
    }

    private record Ends(MigrationManager src, FakeSaveVm srcVm, FakeGuest srcGuest, MigrationManager dst,
            FakeSaveVm dstVm, FakeGuest dstGuest) {
    }

    /** A source with client credentials from {@code clientDir}, a destination with server ones from {@code serverDir}. */
    private static Ends ends(Path serverDir, String serverExtra, Path clientDir, String authz) throws Exception {
        UserObjects srcObjects = new UserObjects();
        srcObjects.add("tls-creds-x509,id=tls0,endpoint=client,dir=" + clientDir);
        UserObjects dstObjects = new UserObjects();
        dstObjects.add("tls-creds-x509,id=tls0,endpoint=server,verify-peer=on,dir=" + serverDir + serverExtra);
        FakeSaveVm srcVm = new FakeSaveVm(SIZE, 65536);
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        FakeGuest srcGuest = new FakeGuest(true);
        FakeGuest dstGuest = new FakeGuest(false);
        MigrationManager src = MigrationManager.withObjects(srcVm, srcGuest, srcObjects);
        MigrationManager dst = MigrationManager.withObjects(dstVm, dstGuest, dstObjects);
        src.setParameter("tls-creds", "tls0");
        dst.setParameter("tls-creds", "tls0");
        if (authz != null) {
            dstObjects.add(authz);
            dst.setParameter("tls-authz", "auth0");
        }
        return new Ends(src, srcVm, srcGuest, dst, dstVm, dstGuest);
    }

    private static final String ALLOW_CLIENT = "authz-list,id=auth0,policy=deny,rules.0.match="
            + TlsCerts.CLIENT_DN.replace(",", ",,") + ",rules.0.policy=allow";

    @Test
    void migratesWithReturnPathAndMultifdAndNothingTravelsInClear() throws Exception {
        Ends e = ends(certs.serverDir("good", "ca", "server"), "", certs.clientDir("good-client", "ca", "client"),
                ALLOW_CLIENT);
        for (MigrationManager m : new MigrationManager[] {e.src, e.dst}) {
            m.setCapability("return-path", true);
            m.setCapability("multifd", true);
        }
        IncomingMigration in = e.dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
        try (RecordingProxy proxy = new RecordingProxy(Integer.parseInt(in.address().replaceFirst(".*:", "")))) {
            // the server's certificate names localhost and 127.0.0.1: the source connects to the proxy as localhost
            OutgoingMigration out = e.src.migrate("tcp:localhost:" + proxy.port(), MigrationListener.NONE);
            assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out.info().errorDesc()));
            assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.COMPLETED, in.status(), in.error());
            assertEquals(SIZE, e.dstVm.loadedBytes.get());
            assertTrue(e.dstGuest.running);

            assertEquals(3, proxy.connections.size(), "the main stream and two multifd channels");
            byte[] fakeMagic = ByteBuffer.allocate(4).putInt(FakeSaveVm.MAGIC).array();
            byte[] multifdMagic = ByteBuffer.allocate(4).putInt(MultifdWire.MAGIC).array();
            byte[] payload = new byte[64];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = FakeSaveVm.pattern(1000 + i);
            }
            for (RecordingProxy.Recorded r : proxy.connections) {
                byte[] up = RecordingProxy.bytes(r.up);
                byte[] down = RecordingProxy.bytes(r.down);
                // a TLS handshake record (type 22, version 3.x) opens each direction of each connection
                assertTrue(up.length > 5 && up[0] == 22 && up[1] == 3, "client hello first");
                assertTrue(down.length > 5 && down[0] == 22 && down[1] == 3, "server hello first");
                assertFalse(RecordingProxy.contains(up, fakeMagic), "the stream's magic is not on the wire");
                assertFalse(RecordingProxy.contains(up, multifdMagic), "no multifd packet header on the wire");
                assertFalse(RecordingProxy.contains(up, payload), "no stream payload on the wire");
            }
            // the main stream's connection carried the stream (MiBs) up and the return path's messages down
            assertTrue(proxy.connections.stream().anyMatch(r -> RecordingProxy.bytes(r.up).length >= 1 << 20));
        }
    }

    /** Runs a migration that must be refused; returns {source error, destination error}. */
    private static String[] refused(Ends e, String host) throws Exception {
        IncomingMigration in = e.dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
        String port = in.address().replaceFirst(".*:", "");
        OutgoingMigration out = e.src.migrate("tcp:" + host + ":" + port, MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, out.status());
        assertEquals(MigrationStatus.FAILED, in.status());
        assertEquals(-1, e.dstVm.loadedBytes.get(), "the destination loaded nothing");
        assertFalse(e.dstGuest.running, "the destination does not run");
        assertTrue(e.srcGuest.running, "the source keeps running");
        assertNotNull(out.info().errorDesc());
        assertNotNull(in.error());
        System.out.println("refused: source: " + out.info().errorDesc() + "\n         destination: " + in.error());
        return new String[] {out.info().errorDesc(), in.error()};
    }

    @Test
    void aServerCertificateFromAnotherCaIsRefused() throws Exception {
        Ends e = ends(certs.serverDir("rogue", "other-ca", "rogue-server"), "", certs.clientDir("c1", "ca", "client"), null);
        String[] err = refused(e, "127.0.0.1");
        assertTrue(err[0].contains("TLS handshake") && err[0].contains("is not trusted by the CA in"), err[0]);
        assertTrue(err[1].contains("TLS handshake") && err[1].contains("fatal alert"), err[1]);
    }

    @Test
    void anExpiredServerCertificateIsRefused() throws Exception {
        // sanity-check=off: QEMU would refuse to load its own expired certificate otherwise (see TlsObjectsTest)
        Ends e = ends(certs.serverDir("expired", "ca", "expired-server"), ",sanity-check=off",
                certs.clientDir("c2", "ca", "client"), null);
        String[] err = refused(e, "127.0.0.1");
        assertTrue(err[0].contains("has expired"), err[0]);
        assertTrue(err[1].contains("TLS handshake") && err[1].contains("fatal alert"), err[1]);
    }

    @Test
    void aServerCertificateForAnotherHostIsRefused() throws Exception {
        Ends e = ends(certs.serverDir("wrong-name", "ca", "wrong-name"), "", certs.clientDir("c3", "ca", "client"), null);
        String[] err = refused(e, "127.0.0.1");
        assertTrue(err[0].contains("Certificate does not match the hostname 127.0.0.1"), err[0]);
        assertTrue(err[1].contains("fatal alert"), err[1]);
    }

    @Test
    void tlsHostnameOverridesTheUriHost() throws Exception {
        Ends e = ends(certs.serverDir("wrong-name2", "ca", "wrong-name"), "", certs.clientDir("c4", "ca", "client"), null);
        e.src.setParameter("tls-hostname", "elsewhere.example.com");
        completes(e);
    }

    /** The migration between the two ends completes and the destination loaded the whole stream. */
    private static void completes(Ends e) throws Exception {
        IncomingMigration in = e.dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
        OutgoingMigration out = e.src.migrate(in.address(), MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out.info().errorDesc()));
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(SIZE, e.dstVm.loadedBytes.get());
    }

    @Test
    void aClientNameNotInTheAuthzListIsRefused() throws Exception {
        Ends e = ends(certs.serverDir("authz", "ca", "server"), "", certs.clientDir("intruder", "ca", "intruder"),
                ALLOW_CLIENT);
        String[] err = refused(e, "127.0.0.1");
        assertTrue(err[1].contains("TLS x509 authz check for " + TlsCerts.OTHER_CLIENT_DN + " is denied"), err[1]);
        assertTrue(err[0].contains("fatal alert"), err[0]);
    }

    /**
     * QEMU 7.2's server reads ca-crl.pem when the directory has one: a client whose certificate the CA revoked is
     * refused with nothing loaded, and one that is not on the list still migrates through the same credentials.
     */
    @Test
    void aRevokedClientCertificateIsRefusedByAServerWithTheCasRevocationList() throws Exception {
        Path crl = certs.crl("ca", "intruder");
        Path serverDir = certs.serverDir("crl", "ca", "server");
        java.nio.file.Files.copy(crl, serverDir.resolve("ca-crl.pem"));
        Ends revoked = ends(serverDir, "", certs.clientDir("crl-intruder", "ca", "intruder"), null);
        String[] err = refused(revoked, "127.0.0.1");
        assertTrue(err[1].contains("The client certificate " + TlsCerts.OTHER_CLIENT_DN + " has been revoked"), err[1]);
        assertTrue(err[0].contains("fatal alert"), err[0]);

        completes(ends(serverDir, "", certs.clientDir("crl-client", "ca", "client"), null));
    }

    @Test
    void aClientWithoutCertificateIsRefusedByAVerifyingServer() throws Exception {
        Ends e = ends(certs.serverDir("nocert", "ca", "server"), "", certs.clientDir("nocert-client", "ca", null), null);
        String[] err = refused(e, "127.0.0.1");
        assertTrue(err[1].contains("TLS handshake"), err[1]);
        assertTrue(err[0].contains("TLS"), err[0]);
    }

    @Test
    void credentialsAreCheckedWhenTheMigrationStartsWithQemusWords() throws Exception {
        UserObjects objects = new UserObjects();
        objects.add("tls-creds-x509,id=srv,endpoint=server,dir=" + certs.serverDir("words", "ca", "server"));
        objects.add("tls-creds-x509,id=cli,endpoint=client,dir=" + certs.clientDir("words-client", "ca", "client"));
        MigrationManager m = MigrationManager.withObjects(new FakeSaveVm(SIZE, 65536), new FakeGuest(true), objects);
        m.setParameter("tls-creds", "nope");
        assertEquals("No TLS credentials with id 'nope'",
                assertThrows(IllegalArgumentException.class, () -> m.migrate("tcp:127.0.0.1:1", MigrationListener.NONE))
                        .getMessage());
        m.setParameter("tls-creds", "srv");
        assertEquals("Expected TLS credentials for a client endpoint",
                assertThrows(IllegalArgumentException.class, () -> m.migrate("tcp:127.0.0.1:1", MigrationListener.NONE))
                        .getMessage());
        m.setParameter("tls-creds", "cli");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> m.migrate("unix:/tmp/x", MigrationListener.NONE)).getMessage().contains("tcp: only"));
        m.setParameter("tls-creds", "");
        m.setParameter("tls-authz", "missing");
        m.setParameter("tls-creds", "srv");
        assertEquals("No authorization object with id 'missing'", assertThrows(IllegalArgumentException.class,
                () -> m.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE)).getMessage());
    }
}
