package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.objects.UserObjects;
import org.savevm.migration.outgoing.OutgoingMigration;

/**
 * Migrations back and forth between two orchestrators in one JVM (each with its own objects and settings, as two
 * processes would be), with the return path and two multifd channels, in clear and over TLS: after a warm-up the
 * heap after GC, the live threads and the open file descriptors do not grow over the run. 100 migrations in clear
 * (about a second) and 20 over TLS (three handshakes each: seconds on a loaded machine) by default;
 * {@code -Dsavevm.soak.migrations=N} and {@code -Dsavevm.soak.tls-migrations=N} run more ({@code bench/soak.sh}).
 */
class SoakTest {
    private static final int MIGRATIONS = Integer.getInteger("savevm.soak.migrations", 100);
    private static final int TLS_MIGRATIONS = Integer.getInteger("savevm.soak.tls-migrations", 20);
    private static final int WARMUP = 10;
    private static final int SIZE = 256 << 10;

    private record Usage(long heap, int threads, long fds) {
        @Override
        public String toString() {
            return "heap " + (heap >> 10) + " KiB, " + threads + " threads, " + fds + " fds";
        }
    }

    private static long openFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /** Settles first: threads of the last migration end just after it reports its end. */
    private static Usage usage(Usage limit) throws Exception {
        Usage u = null;
        for (int i = 0; i < 100; i++) {
            System.gc();
            Thread.sleep(20);
            u = new Usage(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                    ManagementFactory.getThreadMXBean().getThreadCount(), openFds());
            if (limit == null || (u.threads <= limit.threads && u.fds <= limit.fds)) {
                return u;
            }
        }
        return u;
    }

    @ParameterizedTest(name = "tls {0}")
    @ValueSource(booleans = {false, true})
    void backAndForthWithoutGrowth(boolean tls, @TempDir Path dir) throws Exception {
        UserObjects[] objects = {new UserObjects(), new UserObjects()};
        if (tls) {
            TlsCerts certs = TlsCerts.make(dir);
            // each end is both a server (incoming) and a client (outgoing): two credential objects each
            for (int i = 0; i < 2; i++) {
                objects[i].add("tls-creds-x509,id=srv,endpoint=server,dir=" + certs.serverDir("soak-s" + i, "ca", "server"));
                objects[i].add("tls-creds-x509,id=cli,endpoint=client,dir=" + certs.clientDir("soak-c" + i, "ca", "client"));
            }
        }
        FakeSaveVm[] vms = {new FakeSaveVm(SIZE, 65536), new FakeSaveVm(SIZE, 65536)};
        MigrationManager[] ends = {MigrationManager.withObjects(vms[0], new FakeGuest(true), objects[0]),
            MigrationManager.withObjects(vms[1], new FakeGuest(false), objects[1])};
        for (MigrationManager m : ends) {
            m.setCapability("return-path", true);
            m.setCapability("multifd", true);
            m.setParameter("max-bandwidth", "1G");
        }
        Usage base = null;
        long start = System.nanoTime();
        int migrations = tls ? TLS_MIGRATIONS : MIGRATIONS;
        for (int n = 0; n < migrations; n++) {
            MigrationManager src = ends[n % 2];
            MigrationManager dst = ends[1 - n % 2];
            if (tls) {
                src.setParameter("tls-creds", "cli");
                dst.setParameter("tls-creds", "srv");
            }
            IncomingMigration in = dst.incoming("tcp:127.0.0.1:0", false, MigrationListener.NONE);
            String port = in.address().replaceFirst(".*:", "");
            OutgoingMigration out = src.migrate("tcp:localhost:" + port, MigrationListener.NONE);
            assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.COMPLETED, out.status(), "migration " + n + ": " + out.info().errorDesc());
            assertEquals(MigrationStatus.COMPLETED, in.status(), "migration " + n + ": " + in.error());
            assertEquals(SIZE, vms[1 - n % 2].loadedBytes.get());
            vms[1 - n % 2].loadedBytes.set(-1);
            if (n + 1 == WARMUP) {
                base = usage(null);
            }
        }
        Usage end = usage(base);
        System.out.printf("soak (tls %s): %d migrations in %d ms; after warm-up %s, at the end %s%n", tls, migrations,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), base, end);
        assertTrue(end.threads <= base.threads, "threads grew: " + base + " -> " + end);
        assertTrue(end.fds <= base.fds, "file descriptors grew: " + base + " -> " + end);
        // heap after GC: what a leak of a few KiB per migration would show over 90 migrations, not GC noise
        assertTrue(end.heap <= base.heap + (4 << 20), "heap after GC grew: " + base + " -> " + end);
    }
}
