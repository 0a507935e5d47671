package org.savevm.block.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.block.testing.Disks;
import org.savevm.block.testing.RawFileImage;
import org.savevm.block.testing.TestDrive;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;

/**
 * Issue 10's "never complete with data unsent": QEMU 7.2 at unlimited bandwidth reported "completed" in 4 of 9 runs
 * with most of a 512 MiB disk never sent, because its bulk-phase pending estimate is one chunk. Here a 256 MiB disk,
 * half random and half zeros, with the guest writing to it, migrates 20 times through the real orchestrator on
 * both ends (loopback TCP, max-bandwidth unlimited); every run must complete and leave the destination's image
 * equal to the source's.
 */
class RepeatedLiveMigrationTest {
    static final long SIZE = 256L << 20;
    static final int RUNS = 20;

    @TempDir
    Path tmp;

    @Test
    void twentyMigrationsAtUnlimitedBandwidthEachLeaveAnEqualImage() throws Exception {
        TestDrive src = new TestDrive("disk0", Disks.halfRandom(tmp.resolve("src.raw"), SIZE, SIZE / 2, 10));
        for (int run = 0; run < RUNS; run++) {
            Path dstFile = tmp.resolve("dst-" + run + ".raw");
            TestDrive dst = new TestDrive("disk0", RawFileImage.create(dstFile, SIZE));
            WritingGuest guest = new WritingGuest(src, true);
            try (BlockVm a = new BlockVm(List.of(src), false); BlockVm b = new BlockVm(List.of(dst), false)) {
                MigrationManager source = new MigrationManager(a.saveVm, guest);
                MigrationManager destination = new MigrationManager(b.saveVm, new WritingGuest(null, false));
                for (MigrationManager m : List.of(source, destination)) {
                    m.addFeatures(new BlockFeatures());
                    m.setCapability("block", true);
                }
                source.setParameter("max-bandwidth", "1000000");
                IncomingMigration in = destination.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
                OutgoingMigration out = source.migrate(in.address(), MigrationListener.NONE);
                assertTrue(out.await(120, TimeUnit.SECONDS), "run " + run + ": source did not finish");
                assertTrue(in.await(120, TimeUnit.SECONDS), "run " + run + ": destination did not finish");
                assertEquals(MigrationStatus.COMPLETED, out.status(), "run " + run + ": " + out.info().errorDesc());
                assertEquals(MigrationStatus.COMPLETED, in.status(), "run " + run + ": " + in.error());
                assertNull(guest.failure);
                assertEquals(-1, firstDifference(src.image(), dst.image()), "run " + run + ": images differ at");
            } finally {
                guest.stop();
                dst.image().close();
                Files.delete(dstFile);
            }
        }
    }

    /** Offset of the first differing MiB, or -1. */
    static long firstDifference(BlockImage a, BlockImage b) throws IOException {
        assertEquals(a.size(), b.size());
        ByteBuffer x = ByteBuffer.allocateDirect(1 << 20);
        ByteBuffer y = ByteBuffer.allocateDirect(1 << 20);
        for (long pos = 0; pos < a.size(); pos += x.capacity()) {
            int n = (int) Math.min(x.capacity(), a.size() - pos);
            x.clear().limit(n);
            y.clear().limit(n);
            a.read(pos, x);
            b.read(pos, y);
            if (x.flip().mismatch(y.flip()) >= 0) {
                return pos;
            }
        }
        return -1;
    }
}
