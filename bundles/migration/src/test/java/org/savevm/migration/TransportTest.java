package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;

/** Each transport carries a whole stream both ways; the fake destination checks every byte. */
class TransportTest {
    private static final long SIZE = 3 << 20;

    @TempDir
    Path dir;

    private static void live(String listenUri) throws Exception {
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        MigrationManager dst = new MigrationManager(dstVm, new FakeGuest(false));
        MigrationManager src = new MigrationManager(new FakeSaveVm(SIZE, 65536), new FakeGuest(true));
        IncomingMigration in = dst.incoming(listenUri, true, MigrationListener.NONE);
        OutgoingMigration out = src.migrate(in.address(), MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out.info().errorDesc()));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
        assertEquals(SIZE, dstVm.loadedBytes.get());
        assertEquals(out.info().streamBytes(), in.info().streamBytes());
    }

    private static void stored(String outUri, String inUri) throws Exception {
        MigrationManager src = new MigrationManager(new FakeSaveVm(SIZE, 65536), new FakeGuest(true));
        OutgoingMigration out = src.migrate(outUri, MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out.info().errorDesc()));
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        MigrationManager dst = new MigrationManager(dstVm, new FakeGuest(false));
        IncomingMigration in = dst.incoming(inUri, true, MigrationListener.NONE);
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
        assertEquals(SIZE, dstVm.loadedBytes.get());
        assertEquals(out.info().streamBytes(), in.info().streamBytes());
    }

    @Test
    void tcp() throws Exception {
        live("tcp:127.0.0.1:0");
    }

    @Test
    void unixSocket() throws Exception {
        live("unix:" + dir.resolve("mig.sock"));
        assertTrue(Files.notExists(dir.resolve("mig.sock")), "the socket file is removed after use");
    }

    @Test
    void file() throws Exception {
        Path f = dir.resolve("state.bin");
        stored("file:" + f, "file:" + f);
        assertTrue(Files.size(f) > SIZE);
    }

    @Test
    void exec() throws Exception {
        Path f = dir.resolve("state.gz");
        stored("exec:gzip -c > '" + f + "'", "exec:gzip -dc '" + f + "'");
        assertTrue(Files.size(f) > 0);
    }

    @Test
    void execCommandFailureFailsTheMigration() throws Exception {
        FakeGuest guest = new FakeGuest(true);
        MigrationManager src = new MigrationManager(new FakeSaveVm(SIZE, 65536), guest);
        OutgoingMigration out = src.migrate("exec:exit 3", MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, out.status());
        assertTrue(guest.running);
    }

    @Test
    void missingFileFailsTheDestination() throws Exception {
        FakeGuest guest = new FakeGuest(false);
        MigrationManager dst = new MigrationManager(new FakeSaveVm(0, 1), guest);
        IncomingMigration in = dst.incoming("file:" + dir.resolve("absent"), true, MigrationListener.NONE);
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, in.status());
        assertTrue(in.error().contains("absent"), in.error());
        assertEquals(0, guest.starts.get());
    }
}
