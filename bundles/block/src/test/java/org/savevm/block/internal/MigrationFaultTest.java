package org.savevm.block.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.block.testing.Disks;
import org.savevm.block.testing.RawFileImage;
import org.savevm.block.testing.TestDrive;
import org.savevm.core.SaveVmService;
import org.savevm.core.testing.BlobEngine;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.machine.internal.MachineDrive;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;
import org.savevm.registry.internal.HandlerRegistry;

/** Faults during a live block migration through the real orchestrator: what fails, what stays intact. */
class MigrationFaultTest {
    static final long SIZE = 32L << 20;

    @TempDir
    Path tmp;

    private static MigrationManager manager(BlockVm vm, WritingGuest guest) {
        MigrationManager m = new MigrationManager(vm.saveVm, guest);
        m.addFeatures(new BlockFeatures());
        m.setCapability("block", true);
        return m;
    }

    @Test
    void aSourceReadErrorFailsTheMigrationAndTheGuestKeepsRunningOnAnIntactDisk() throws Exception {
        RawFileImage img = Disks.halfRandom(tmp.resolve("src.raw"), SIZE, SIZE, 3);
        TestDrive src = new TestDrive("disk0", img);
        String before = src.contentHash();
        img.failReadsFrom = 20L << 20;
        TestDrive dst = new TestDrive("disk0", RawFileImage.create(tmp.resolve("dst.raw"), SIZE));
        WritingGuest guest = new WritingGuest(null, true);
        try (BlockVm a = new BlockVm(List.of(src), false); BlockVm b = new BlockVm(List.of(dst), false)) {
            MigrationManager destination = manager(b, new WritingGuest(null, false));
            IncomingMigration in = destination.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
            OutgoingMigration out = manager(a, guest).migrate(in.address(), MigrationListener.NONE);
            assertTrue(out.await(30, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.FAILED, out.status());
            assertTrue(out.info().errorDesc().contains("block: reading device 'disk0' at offset 0x1400000 failed"),
                    out.info().errorDesc());
            assertTrue(guest.running(), "the source guest keeps running");
            assertNull(src.holder(), "the drive is released");
            assertTrue(in.await(30, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.FAILED, in.status(), "the destination never completes");
        }
        img.failReadsFrom = Long.MAX_VALUE;
        assertEquals(before, src.contentHash(), "the source image is untouched");
    }

    @Test
    void aCutLinkLeavesTheSourceIntactAndTheDestinationFailed() throws Exception {
        TestDrive src = new TestDrive("disk0", Disks.halfRandom(tmp.resolve("src.raw"), SIZE, SIZE, 4));
        String before = src.contentHash();
        TestDrive dst = new TestDrive("disk0", RawFileImage.create(tmp.resolve("dst.raw"), SIZE));
        WritingGuest guest = new WritingGuest(null, true);
        try (BlockVm a = new BlockVm(List.of(src), false); BlockVm b = new BlockVm(List.of(dst), false);
                CuttingProxy proxy = new CuttingProxy(10L << 20)) {
            MigrationManager destination = manager(b, new WritingGuest(null, false));
            IncomingMigration in = destination.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
            proxy.forwardTo(in.address());
            OutgoingMigration out = manager(a, guest).migrate("tcp:127.0.0.1:" + proxy.port(), MigrationListener.NONE);
            assertTrue(out.await(30, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.FAILED, out.status());
            assertTrue(guest.running(), "the source guest keeps running");
            assertNull(src.holder());
            assertTrue(in.await(30, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.FAILED, in.status(), "the destination failed: " + in.error());
        }
        assertEquals(before, src.contentHash(), "the source image is untouched");
    }

    /**
     * The destination's image lives on an 8 MiB tmpfs (mounted for the test; skipped where mount is not allowed):
     * the 32 MiB of random data cannot fit, the write fails with the file system's "No space left on device", and
     * the destination fails instead of completing.
     */
    @Test
    void aFullDestinationDiskFailsTheLoadAndNeverCompletes() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("small-fs"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8M", "tmpfs", mnt.toString())
                .redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(10, TimeUnit.SECONDS) && mount.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "cannot mount a small tmpfs here (not root?): skipping the disk-full test");
        try {
            TestDrive src = new TestDrive("disk0", Disks.halfRandom(tmp.resolve("src.raw"), SIZE, SIZE, 5));
            RawFileImage full = RawFileImage.create(mnt.resolve("dst.raw"), SIZE);
            TestDrive dst = new TestDrive("disk0", full);
            WritingGuest guest = new WritingGuest(null, true);
            try (BlockVm a = new BlockVm(List.of(src), false); BlockVm b = new BlockVm(List.of(dst), false)) {
                MigrationManager destination = manager(b, new WritingGuest(null, false));
                IncomingMigration in = destination.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
                OutgoingMigration out = manager(a, guest).migrate(in.address(), MigrationListener.NONE);
                assertTrue(in.await(30, TimeUnit.SECONDS));
                assertEquals(MigrationStatus.FAILED, in.status());
                assertTrue(in.error().contains("block: writing device 'disk0' at offset")
                        && in.error().contains("No space left on device"), in.error());
                assertTrue(out.await(30, TimeUnit.SECONDS));
                assertEquals(MigrationStatus.FAILED, out.status(), "the source sees the destination go away");
                assertTrue(guest.running(), "the source guest keeps running");
            } finally {
                full.close();
            }
        } finally {
            new ProcessBuilder("umount", mnt.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void detachingOrResizingADriveIsRefusedWhileItMigrates() throws Exception {
        ImageServiceComponent images = new ImageServiceComponent();
        BlockImage srcImage = images.create(tmp.resolve("src.qcow2"), ImageFormat.QCOW2, SIZE, Optional.empty(),
                Optional.empty());
        byte[] b = new byte[1 << 20];
        new Random(6).nextBytes(b);
        srcImage.write(0, ByteBuffer.wrap(b));
        BlockImage dstImage = images.create(tmp.resolve("dst.qcow2"), ImageFormat.QCOW2, SIZE, Optional.empty(),
                Optional.empty());
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 16L << 20, WorkloadSpec.DEFAULT,
                List.of(new MachineDrive("disk0", srcImage, false)), 0);
                SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", 16L << 20, WorkloadSpec.DEFAULT,
                        List.of(new MachineDrive("disk0", dstImage, false)), 0)) {
            MigrationManager source = machineManager(src);
            MigrationManager destination = machineManager(dst);
            // 32 MiB at 8 MiB/s: about four seconds to try
            source.setParameter("max-bandwidth", "8");
            IncomingMigration in = destination.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
            OutgoingMigration out = source.migrate(in.address(), MigrationListener.NONE);
            while (out.status() != MigrationStatus.ACTIVE && !out.await(10, TimeUnit.MILLISECONDS)) {
                // until the drives are held
            }
            IllegalStateException detach = assertThrows(IllegalStateException.class, () -> src.detachDrive("disk0"));
            assertEquals("Node 'disk0' is busy: block device is in use by migration", detach.getMessage());
            IllegalStateException resize = assertThrows(IllegalStateException.class,
                    () -> src.resizeDrive("disk0", SIZE * 2));
            assertEquals("Node 'disk0' is busy: block device is in use by migration", resize.getMessage());
            assertTrue(out.await(30, TimeUnit.SECONDS));
            assertTrue(in.await(30, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.COMPLETED, out.status(), out.info().errorDesc());
            assertEquals(src.drives().get(0).contentHash(), dst.drives().get(0).contentHash());
            src.detachDrive("disk0");
            assertTrue(src.drives().isEmpty(), "after the migration the drive can go");
        }
    }

    private static MigrationManager machineManager(SimulatedMachine m) {
        HandlerRegistry registry = new HandlerRegistry();
        registry.add(new BlockHandler(m), "org.savevm.block");
        MigrationManager manager = new MigrationManager(new SaveVmService(registry, new BlobEngine(), Map.of()),
                new MachineDrivesMigrationTest.WorkloadGuest(m.workload()));
        manager.addFeatures(new BlockFeatures());
        manager.setCapability("block", true);
        return manager;
    }

    /** A TCP forwarder that closes both sides after {@code limit} bytes from the source: a cut link. */
    static final class CuttingProxy implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        private final long limit;
        private Thread thread;

        CuttingProxy(long limit) throws IOException {
            this.limit = limit;
        }

        int port() {
            return server.getLocalPort();
        }

        void forwardTo(String address) {
            String hostPort = address.substring(address.indexOf(':') + 1);
            int port = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
            thread = new Thread(() -> {
                try (Socket from = server.accept(); Socket to = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream();
                    byte[] buf = new byte[65536];
                    long sent = 0;
                    int n;
                    while (sent < limit && (n = in.read(buf)) > 0) {
                        out.write(buf, 0, n);
                        sent += n;
                    }
                } catch (IOException e) {
                    // the cut
                }
            }, "cutting-proxy");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws Exception {
            server.close();
            if (thread != null) {
                thread.join(5000);
            }
        }
    }
}
