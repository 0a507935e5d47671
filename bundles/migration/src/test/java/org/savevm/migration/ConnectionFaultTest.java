package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.MigrationUri;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;

/**
 * The connection dies after a random number of bytes (seeded, so a failure can be replayed): the
 * source ends failed with its guest running, the destination ends failed with its guest stopped.
 */
class ConnectionFaultTest {
    /** Much more than loopback socket buffers hold, so the source is still writing when the cut comes. */
    private static final long SIZE = 96L << 20;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void droppedConnection(long seed) throws Exception {
        long cut = seed == 1 ? 3 : new Random(seed).nextLong(SIZE / 2);
        FakeGuest srcGuest = new FakeGuest(true);
        FakeGuest dstGuest = new FakeGuest(false);
        FakeSaveVm srcVm = new FakeSaveVm(SIZE, 65536);
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        MigrationManager src = new MigrationManager(srcVm, srcGuest);
        MigrationManager dst = new MigrationManager(dstVm, dstGuest);
        src.setParameter("max-bandwidth", "0");
        IncomingMigration in = dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
        int port = MigrationUri.parse(in.address()).port();
        try (CuttingProxy proxy = new CuttingProxy(port, cut)) {
            OutgoingMigration out = src.migrate("tcp:127.0.0.1:" + proxy.port(), MigrationListener.NONE);
            assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));

            assertEquals(MigrationStatus.FAILED, out.status(), "source, cut at " + cut);
            assertNotNull(out.info().errorDesc());
            assertTrue(srcGuest.running, "source guest keeps running");
            assertEquals(srcGuest.stops.get(), srcGuest.starts.get(), "a stopped source guest was started again");
            assertEquals(0, srcGuest.throttle);
            assertEquals(1, srcVm.closes.get(), "save cleanup ran");

            assertEquals(MigrationStatus.FAILED, in.status(), "destination, cut at " + cut);
            assertNotNull(in.error());
            assertFalse(dstGuest.running, "destination guest does not run");
            assertEquals(0, dstGuest.starts.get());
            assertEquals(-1, dstVm.loadedBytes.get());
        }
    }
}
