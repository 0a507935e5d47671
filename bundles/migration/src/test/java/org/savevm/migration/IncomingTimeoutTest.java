package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.migration.commands.IncomingCommand;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;

/**
 * {@code incoming --timeout}: the destination gives up on a source that never connects, on one that connects and
 * sends nothing, and on one that stops in the middle of the stream, each with an error saying which; a source
 * that keeps sending is not cut off however long the migration takes. Without a timeout it waits (QEMU's way).
 */
class IncomingTimeoutTest {

    private static int port(IncomingMigration in) {
        return Integer.parseInt(in.address().replaceFirst(".*:", ""));
    }

    @Test
    void noSourceConnects() throws Exception {
        FakeGuest guest = new FakeGuest(false);
        MigrationManager dst = new MigrationManager(new FakeSaveVm(0, 1), guest);
        IncomingMigration in = dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE, 300);
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, in.status());
        assertTrue(in.error().startsWith("timeout: no source connected to tcp:127.0.0.1:"), in.error());
        assertFalse(guest.running);
        // the port is free again: a later incoming migration can bind it
        IncomingMigration again = dst.incoming("tcp:127.0.0.1:" + port(in), true, MigrationListener.NONE, 300);
        assertTrue(again.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, again.status());
    }

    @Test
    void aConnectedSourceThatSendsNothingOrStops() throws Exception {
        for (int sent : new int[] {0, 4}) {
            FakeSaveVm vm = new FakeSaveVm(0, 1);
            MigrationManager dst = new MigrationManager(vm, new FakeGuest(false));
            IncomingMigration in = dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE, 400);
            try (SocketChannel idle = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(in)))) {
                if (sent > 0) {
                    idle.write(ByteBuffer.allocate(4).putInt(0, FakeSaveVm.MAGIC));
                }
                assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
                assertEquals(MigrationStatus.FAILED, in.status());
                assertEquals("timeout: no data from the source for 400 ms (after " + sent + " bytes)", in.error());
                assertEquals(-1, vm.loadedBytes.get());
                // the destination closed its end
                assertEquals(-1, idle.read(ByteBuffer.allocate(16)));
            }
        }
    }

    @Test
    void aSlowButLiveSourceIsNotCutOff() throws Exception {
        // 2 MiB at 1 MiB/s: two seconds, four times the timeout
        FakeSaveVm srcVm = new FakeSaveVm(2 << 20, 16384);
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        MigrationManager src = new MigrationManager(srcVm, new FakeGuest(true));
        MigrationManager dst = new MigrationManager(dstVm, new FakeGuest(false));
        src.setParameter("max-bandwidth", "1M");
        IncomingMigration in = dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE, 500);
        OutgoingMigration out = src.migrate(in.address(), MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, in.status(), in.error());
        assertEquals(2 << 20, dstVm.loadedBytes.get());
    }

    @Test
    void theCommandTakesSecondsAndReportsTheTimeout() throws Exception {
        MigrationManager dst = new MigrationManager(new FakeSaveVm(0, 1), new FakeGuest(false));
        IncomingCommand cmd = new IncomingCommand(dst);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = cmd.run(List.of("--timeout", "0.3", "tcp:127.0.0.1:0"), new PrintStream(out), new PrintStream(err));
        assertEquals(1, rc);
        assertTrue(err.toString().contains("timeout: no source connected"), err.toString());
        assertEquals(2, cmd.run(List.of("--timeout", "soon", "tcp:127.0.0.1:0"), new PrintStream(out),
                new PrintStream(err)));
    }

    @Test
    void aTlsListenerGivesUpOnAPeerThatNeverHandshakes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        TlsCerts certs = TlsCerts.make(dir);
        org.savevm.migration.objects.UserObjects objects = new org.savevm.migration.objects.UserObjects();
        objects.add("tls-creds-x509,id=tls0,endpoint=server,dir=" + certs.serverDir("t", "ca", "server"));
        MigrationManager dst = MigrationManager.withObjects(new FakeSaveVm(0, 1), new FakeGuest(false), objects);
        dst.setParameter("tls-creds", "tls0");
        IncomingMigration in = dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE, 400);
        try (SocketChannel idle = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(in)))) {
            assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.FAILED, in.status());
            assertTrue(in.error().startsWith("timeout:") || in.error().contains("did not complete it within 400 ms"),
                    in.error());
        }
    }
}
