package org.savevm.block.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.api.migration.GuestControl;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.core.SaveVmService;
import org.savevm.core.testing.BlobEngine;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.machine.internal.MachineDrive;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;
import org.savevm.ram.internal.RamHandler;
import org.savevm.registry.internal.HandlerRegistry;

/**
 * The pieces a savevm process runs, all real: the machine bundle's SimulatedMachine with MachineDrives over the
 * image bundle's raw and qcow2 images, its guest writing RAM and disk while it runs, the ram and block handlers,
 * the core, the registry and the orchestrator on both ends over loopback TCP. The destination's disk then hashes
 * (MachineDrive.contentHash) as the source's.
 */
class MachineDrivesMigrationTest {
    static final long DISK = 24L << 20;

    @TempDir
    Path tmp;

    /** The machine's guest as the orchestrator drives it (the migration bundle's MachineGuest does the same). */
    record WorkloadGuest(GuestWorkload w) implements GuestControl {
        @Override
        public boolean running() {
            return w.running();
        }

        @Override
        public void stop() {
            w.pause();
        }

        @Override
        public void start() {
            w.resume();
        }

        @Override
        public void setThrottlePercent(int percent) {
            w.setThrottlePercent(percent);
        }
    }

    @ParameterizedTest
    @EnumSource(ImageFormat.class)
    void aRunningGuestsDiskMigratesIntoAnEqualDisk(ImageFormat format) throws Exception {
        ImageServiceComponent images = new ImageServiceComponent();
        BlockImage srcImage = images.create(tmp.resolve("src.img"), format, DISK, java.util.Optional.empty(),
                java.util.Optional.empty());
        Random rnd = new Random(9);
        byte[] b = new byte[1 << 20];
        for (long at = 0; at < DISK / 2; at += b.length) {
            rnd.nextBytes(b);
            srcImage.write(at, ByteBuffer.wrap(b));
        }
        BlockImage dstImage = images.create(tmp.resolve("dst.img"), format, DISK, java.util.Optional.empty(),
                java.util.Optional.empty());
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 16L << 20, WorkloadSpec.DEFAULT,
                List.of(new MachineDrive("disk0", srcImage, false)), 8L << 20);
                SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", 16L << 20, WorkloadSpec.DEFAULT,
                        List.of(new MachineDrive("disk0", dstImage, false)), 0)) {
            dst.workload().pause();
            src.workload().resume();
            MigrationManager source = manager(src);
            MigrationManager destination = manager(dst);
            source.setParameter("max-bandwidth", "1000000");
            IncomingMigration in = destination.incoming("tcp:127.0.0.1:0", false, MigrationListener.NONE);
            OutgoingMigration out = source.migrate(in.address(), MigrationListener.NONE);
            assertTrue(out.await(60, TimeUnit.SECONDS));
            assertTrue(in.await(60, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.COMPLETED, out.status(), out.info().errorDesc());
            assertEquals(MigrationStatus.COMPLETED, in.status(), in.error());
            String hash = src.drives().get(0).contentHash();
            assertEquals(hash, dst.drives().get(0).contentHash());
            assertEquals(src.ramHash(), dst.ramHash());
            assertNotEquals(hash, new MachineDrive("x", images.create(tmp.resolve("empty.img"), format, DISK,
                    java.util.Optional.empty(), java.util.Optional.empty()), false).contentHash());
        }
    }

    /**
     * HMP's {@code migrate -b} (QMP migrate's blk): the block capability for this one migration. Switched on by
     * the command, the disk arrives equal, and the capability is off again once the migration has ended; with
     * the capability already on the option is refused with QEMU 7.2's text and nothing starts.
     */
    @org.junit.jupiter.api.Test
    void migrateDashBCopiesTheDiskForThisMigrationOnly() throws Exception {
        ImageServiceComponent images = new ImageServiceComponent();
        BlockImage srcImage = images.create(tmp.resolve("src.raw"), ImageFormat.RAW, DISK, java.util.Optional.empty(),
                java.util.Optional.empty());
        Random rnd = new Random(11);
        byte[] b = new byte[1 << 20];
        for (long at = DISK / 4; at < DISK / 2; at += b.length) {
            rnd.nextBytes(b);
            srcImage.write(at, ByteBuffer.wrap(b));
        }
        BlockImage dstImage = images.create(tmp.resolve("dst.raw"), ImageFormat.RAW, DISK, java.util.Optional.empty(),
                java.util.Optional.empty());
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 16L << 20, WorkloadSpec.DEFAULT,
                List.of(new MachineDrive("disk0", srcImage, false)), 0);
                SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", 16L << 20, WorkloadSpec.DEFAULT,
                        List.of(new MachineDrive("disk0", dstImage, false)), 0)) {
            dst.workload().pause();
            MigrationManager source = manager(src);
            source.setCapability("block", false);
            MigrationManager destination = manager(dst);
            IncomingMigration in = destination.incoming("tcp:127.0.0.1:0", false, MigrationListener.NONE);
            OutgoingMigration out = source.migrate(in.address(), MigrationListener.NONE, true, false);
            assertTrue(out.await(60, TimeUnit.SECONDS));
            assertTrue(in.await(60, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.COMPLETED, out.status(), out.info().errorDesc());
            assertEquals(MigrationStatus.COMPLETED, in.status(), in.error());
            assertEquals(src.drives().get(0).contentHash(), dst.drives().get(0).contentHash());
            assertTrue(!source.config().capabilities().contains("block"), "block capability left on after -b");
            assertEquals(0, source.config().parameter("block-incremental"));

            source.setCapability("block", true);
            IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> source.migrate("tcp:127.0.0.1:1", MigrationListener.NONE, false, true));
            assertEquals("Command options are incompatible with current migration capabilities", refused.getMessage());
            assertTrue(source.config().capabilities().contains("block"), "a refused -i must leave the capability");
        }
    }

    private static MigrationManager manager(SimulatedMachine m) {
        HandlerRegistry registry = new HandlerRegistry();
        registry.add(new BlockHandler(m), "org.savevm.block");
        registry.add(new RamHandler(m), "org.savevm.ram");
        MigrationManager manager = new MigrationManager(new SaveVmService(registry, new BlobEngine(), Map.of()),
                new WorkloadGuest(m.workload()));
        manager.addFeatures(new BlockFeatures());
        manager.setCapability("block", true);
        return manager;
    }
}
