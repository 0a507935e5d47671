package org.savevm.block.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockMigrationStats;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.block.testing.DrivesMachine;
import org.savevm.block.testing.TestDrive;
import org.savevm.core.SaveVmService;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;
import org.savevm.stream.MigrationInput;

/**
 * (c) {@code block-incremental} over a qcow2 overlay on a shared raw base, with real QEMU 7.2 on the other end:
 * only the chunks holding the overlay's clusters move, and the destination's overlay then reads as the source's.
 * The image bundle's qcow2 is our side's image; {@code qemu-img compare} judges.
 */
class IncrementalQemuInteropTest {
    static final long SIZE = 8L << 20;
    /** Overlay writes: chunks 2 (one cluster), 5 (two clusters) and 7. */
    static final long[] WRITES = {(2L << 20) + 65536, (5L << 20), (5L << 20) + 700_000, (7L << 20) + 4096};

    @TempDir
    Path tmp;

    final ImageServiceComponent images = new ImageServiceComponent();

    /** A raw base with data everywhere, and a qcow2 overlay on it with the {@link #WRITES}. */
    private Path overlay(String name, Path base, boolean written) throws Exception {
        Path file = tmp.resolve(name);
        try (BlockImage o = images.create(file, ImageFormat.QCOW2, SIZE, Optional.of(base),
                Optional.of(ImageFormat.RAW))) {
            if (written) {
                Random rnd = new Random(5);
                for (long at : WRITES) {
                    byte[] b = new byte[4096];
                    rnd.nextBytes(b);
                    o.write(at, ByteBuffer.wrap(b));
                }
            }
        }
        return file;
    }

    private Path base() throws Exception {
        Path base = tmp.resolve("base.raw");
        byte[] b = new byte[(int) SIZE];
        new Random(4).nextBytes(b);
        Files.write(base, b);
        return base;
    }

    private static String compare(Path a, Path b) throws Exception {
        Process p = new ProcessBuilder("qemu-img", "compare", a.toString(), b.toString()).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.waitFor() == 0 ? "identical" : out;
    }

    @ParameterizedTest(name = "QEMU is the source: {0}")
    @ValueSource(booleans = {true, false})
    void onlyTheOverlaysChunksMove(boolean qemuIsSource) throws Exception {
        assumeTrue(QemuWithDisk.installed(), "qemu-system-x86_64 / qemu-img not installed: skipping QEMU interop");
        Path base = base();
        Path src = overlay("src.qcow2", base, true);
        Path dst = overlay("dst.qcow2", base, false);
        if (qemuIsSource) {
            Path stream = tmp.resolve("qemu.mig");
            try (QemuWithDisk qemu = new QemuWithDisk(tmp, "disk0", src, "qcow2", false)) {
                qemu.capability("block");
                qemu.command("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"block-incremental\": true}}");
                qemu.command("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > " + stream + "\"}}");
                qemu.awaitCompleted();
            }
            byte[] s = Files.readAllBytes(stream);
            // QEMU sends chunks as its reads complete: any order
            assertEquals(List.of(2L << 20, 5L << 20, 7L << 20), AnalyzedStream.chunkOffsets(s).stream().sorted().toList());
            try (SimulatedMachine ram = new SimulatedMachine("pc-i440fx-7.2", 16L << 20);
                    BlockImage img = images.open(dst, Optional.empty(), false)) {
                FakeRegistry reg = CorpusStreams.registryFor(s, new SkippingRamHandler());
                reg.add(new BlockHandler(new DrivesMachine(ram, List.of(new TestDrive("disk0", img)))), 1);
                new SaveVmService(reg, new BlobEngine(), Map.of()).load(MigrationInput.of(s),
                        MigrationSettings.DEFAULTS);
            }
        } else {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            try (BlockImage img = images.open(src, Optional.empty(), false);
                    QemuWithDisk qemu = new QemuWithDisk(tmp, "disk0", dst, "qcow2", true);
                    BlockVm vm = new BlockVm(List.of(new TestDrive("disk0", img)), true)) {
                // what the incremental save selects from the real qcow2 overlay
                MigrationContext local = new MigrationContext(BlockVm.block(false, true));
                byte[] s = vm.save(local, 0, () -> { });
                assertEquals(List.of(2L << 20, 5L << 20, 7L << 20), AnalyzedStream.chunkOffsets(s));
                assertEquals(3L << 20, local.find(BlockMigrationStats.class).orElseThrow().transferred());
                qemu.command("{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:" + port
                        + "\"}}");
                MigrationManager manager = new MigrationManager(vm.saveVm, new WritingGuest(null, true));
                manager.addFeatures(new BlockFeatures());
                manager.setCapability("block", true);
                manager.setParameter("block-incremental", "on");
                OutgoingMigration out = manager.migrate("tcp:127.0.0.1:" + port, MigrationListener.NONE);
                assertTrue(out.await(60, TimeUnit.SECONDS));
                assertEquals(MigrationStatus.COMPLETED, out.status(), out.info().errorDesc() + "; " + qemu.stderr());
                qemu.awaitCompleted();
            }
        }
        assertEquals("identical", compare(src, dst));
        assertTrue(compare(dst, base).startsWith("Content mismatch"), "the overlay's writes arrived");
    }
}
