package org.savevm.block.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.block.testing.Disks;
import org.savevm.block.testing.RawFileImage;
import org.savevm.block.testing.TestDrive;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;

/**
 * The capabilities and parameter of block migration as the orchestrator sees them with this bundle's
 * MigrationFeatures, and query-migrate's {@code disk} member while a block migration is active.
 */
class BlockFeaturesTest {
    @TempDir
    Path tmp;

    @Test
    void blockZeroBlocksAndIncrementalAreRefusedWithoutTheBundleAndAcceptedWithIt() throws Exception {
        try (BlockVm vm = new BlockVm(List.of(), false)) {
            MigrationManager m = new MigrationManager(vm.saveVm, new WritingGuest(null, true));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.setCapability("block", true));
            assertEquals("QEMU compiled without old-style (blk/-b, inc/-i) block migration", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.setCapability("zero-blocks", true));
            assertThrows(IllegalArgumentException.class, () -> m.setParameter("block-incremental", "on"));
            BlockFeatures f = new BlockFeatures();
            m.addFeatures(f);
            m.setCapability("block", true);
            m.setCapability("zero-blocks", true);
            m.setParameter("block-incremental", "on");
            assertTrue(m.settings().capability("block") && m.settings().capability("zero-blocks"));
            assertEquals(1, m.settings().parameter("block-incremental", 0));
            m.removeFeatures(f);
            assertFalse(m.settings().capability("block"), "its capabilities go with the bundle");
        }
    }

    @Test
    void queryMigrateShowsTheDiskWhileActive() throws Exception {
        long size = 64L << 20;
        TestDrive src = new TestDrive("disk0", Disks.halfRandom(tmp.resolve("src.raw"), size, size, 1));
        TestDrive dst = new TestDrive("disk0", RawFileImage.create(tmp.resolve("dst.raw"), size));
        try (BlockVm a = new BlockVm(List.of(src), false); BlockVm b = new BlockVm(List.of(dst), false)) {
            MigrationManager source = new MigrationManager(a.saveVm, new WritingGuest(null, true));
            MigrationManager destination = new MigrationManager(b.saveVm, new WritingGuest(null, false));
            for (MigrationManager m : List.of(source, destination)) {
                m.addFeatures(new BlockFeatures());
                m.setCapability("block", true);
            }
            // 64 MiB at 32 MiB/s: about two seconds active
            source.setParameter("max-bandwidth", "32");
            IncomingMigration in = destination.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
            OutgoingMigration out = source.migrate(in.address(), MigrationListener.NONE);
            Map<?, ?> disk = null;
            while (!out.await(20, TimeUnit.MILLISECONDS)) {
                Map<String, Object> q = out.info().toQmp();
                if ("active".equals(q.get("status")) && q.get("disk") instanceof Map<?, ?> d
                        && ((Long) d.get("transferred")) > 0) {
                    disk = d;
                }
            }
            assertTrue(in.await(30, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.COMPLETED, out.status(), out.info().errorDesc());
            assertTrue(disk != null, "query-migrate showed a disk member while active");
            assertEquals(size, disk.get("total"));
            // read one after the other while chunks go out: equal to the size give or take a chunk or two
            long sum = (Long) disk.get("transferred") + (Long) disk.get("remaining");
            assertTrue(Math.abs(sum - size) <= 2L << 20, "without guest writes, remaining is what was not sent: "
                    + disk);
            assertFalse(out.info().toQmp().containsKey("disk"), "QEMU shows no disk member after completion");
            assertEquals(src.contentHash(), dst.contentHash());
        }
    }
}
