package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.objects.UserObjects;
import org.savevm.migration.outgoing.OutgoingMigration;

/**
 * What TLS costs the transport: the same 1 GiB stream (the fake core's incompressible pattern, checked byte by byte on
 * load) over loopback TCP in clear and over TLS, unlimited bandwidth, medians of a few runs, printed. Not a CI test:
 * run by {@code bench/tls_cost.sh} ({@code -Dsavevm.bench.tls=true}).
 */
@EnabledIfSystemProperty(named = "savevm.bench.tls", matches = "true")
class TlsCostBench {
    private static final long SIZE = Long.getLong("savevm.bench.bytes", 1L << 30);
    private static final int RUNS = Integer.getInteger("savevm.bench.runs", 3);

    private static long once(boolean tls, TlsCerts certs) throws Exception {
        UserObjects srcObjects = new UserObjects();
        UserObjects dstObjects = new UserObjects();
        FakeSaveVm srcVm = new FakeSaveVm(SIZE, 256 << 10);
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        MigrationManager src = MigrationManager.withObjects(srcVm, new FakeGuest(true), srcObjects);
        MigrationManager dst = MigrationManager.withObjects(dstVm, new FakeGuest(false), dstObjects);
        src.setParameter("max-bandwidth", "1T");
        if (tls) {
            srcObjects.add("tls-creds-x509,id=t,endpoint=client,dir=" + certs.clientDir("bench-c", "ca", "client"));
            dstObjects.add("tls-creds-x509,id=t,endpoint=server,dir=" + certs.serverDir("bench-s", "ca", "server"));
            src.setParameter("tls-creds", "t");
            dst.setParameter("tls-creds", "t");
        }
        IncomingMigration in = dst.incoming("tcp:127.0.0.1:0", false, MigrationListener.NONE);
        long start = System.nanoTime();
        OutgoingMigration out = src.migrate("tcp:localhost:" + in.address().replaceFirst(".*:", ""),
                MigrationListener.NONE);
        assertTrue(in.await(600, TimeUnit.SECONDS));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(out.await(600, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, in.status(), in.error());
        assertEquals(SIZE, dstVm.loadedBytes.get());
        return ms;
    }

    @Test
    void tlsAgainstPlain(@TempDir Path dir) throws Exception {
        TlsCerts certs = TlsCerts.make(dir);
        long[] plain = new long[RUNS];
        long[] tls = new long[RUNS];
        for (int i = 0; i < RUNS; i++) {
            plain[i] = once(false, certs);
            tls[i] = once(true, certs);
        }
        java.util.Arrays.sort(plain);
        java.util.Arrays.sort(tls);
        long p = plain[RUNS / 2];
        long t = tls[RUNS / 2];
        System.out.printf("tls-cost: %d MiB stream, %d runs, medians: plain %d ms (%.0f MiB/s), TLS %d ms (%.0f MiB/s), "
                + "TLS/plain %.2f; all plain %s, all TLS %s (%s, %d cpus)%n", SIZE >> 20, RUNS, p, (SIZE >> 20) * 1000.0 / p,
                t, (SIZE >> 20) * 1000.0 / t, (double) t / p, java.util.Arrays.toString(plain),
                java.util.Arrays.toString(tls), System.getProperty("java.vm.version"),
                Runtime.getRuntime().availableProcessors());
    }
}
