package org.savevm.migration.multifd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.MultifdReceiver;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.migration.MigrationUri;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.migration.transport.Connection;
import org.savevm.migration.transport.Listener;
import org.savevm.migration.transport.Transports;
import org.savevm.ram.internal.CorpusWalker;
import org.savevm.ram.internal.QemuProcess;
import org.savevm.ram.internal.RamHandler;
import org.savevm.stream.MigrationInput;

/**
 * Real QEMU 7.2 as the source, with multifd and two channels: our listener tells the main stream from the
 * channels by arrival order, as QEMU 7.2's destination does, our channels put QEMU's packets into guest
 * RAM, and our ram handler loads the main stream's ram sections with a sync at every EOS. Afterwards our
 * pc.ram equals the file QEMU's pc.ram was mapped from (above 1 MiB: below it QEMU overlays ROM and VGA).
 * The walk stops at QEMU's first device section: those need QEMU's devices, which this test does not have.
 */
class MultifdFromQemuTest {
    private static final int MIB = 16;

    @ParameterizedTest(name = "multifd-compression {0}")
    @ValueSource(strings = {"none", "zlib"})
    void ourDestinationLoadsRamThatQemuSendsThroughItsChannels(String compression, @TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(QemuProcess.installed(), QemuProcess.QEMU + " is not installed: skipping");
        byte[] content = new byte[MIB << 20];
        Random rnd = new Random(7);
        for (int p = 0; p < content.length / 4096; p++) {
            // three pages in four random, the rest zero: both the channels and zero records carry pages
            if (p % 4 != 3) {
                byte[] page = new byte[4096];
                rnd.nextBytes(page);
                System.arraycopy(page, 0, content, p * 4096, 4096);
            }
        }
        Path ramFile = dir.resolve("ram.bin");
        Files.write(ramFile, content);

        Listener listener = Transports.listen(MigrationUri.parse("tcp:127.0.0.1:0"));
        int port = listener.address().port();
        try (SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", (long) MIB << 20);
                QemuProcess qemu = QemuProcess.source(dir, MIB, ramFile)) {
            qemu.command("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": "
                    + "[{\"capability\": \"multifd\", \"state\": true}]}}");
            qemu.command("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"multifd-channels\": 2, "
                    + "\"max-bandwidth\": 1099511627776, \"multifd-compression\": \"" + compression + "\"}}");
            qemu.command("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:" + port + "\"}}");

            List<Connection> all = listener.acceptAll(3, 30_000);
            try (MultifdRecvChannels channels = new MultifdRecvChannels(
                    List.of(all.get(1).input(), all.get(2).input()), dst::ramBlock, e -> all.get(0).abort(),
                    compression.equals("zlib"))) {
                channels.start();
                MigrationContext context = new MigrationContext(MigrationSettings.DEFAULTS
                        .withCapability("multifd", true).withParameter("multifd-channels", 2));
                context.publish(MultifdReceiver.class, channels);
                MigrationInput in = new MigrationInput(all.get(0).input(), 1 << 20);
                try (LiveStateHandler.LoadSession load = new RamHandler(dst).beginLoad(context)) {
                    List<CorpusWalker.Body> bodies = CorpusWalker.loadRam(in, load);
                    assertTrue(bodies.size() >= 3, "START, PART(s) and END of ram: " + bodies);
                }
                long expectedPages = content.length / 4096 * 3 / 4;
                assertTrue(channels.pages() >= expectedPages,
                        "QEMU's non-zero pages came through the channels: " + channels.pages());
            } finally {
                for (Connection c : all) {
                    c.abort();
                }
            }
            RamBlock ram = dst.ramBlock("pc.ram").orElseThrow();
            byte[] ours = new byte[content.length - (1 << 20)];
            ram.read(1 << 20, ours, 0, ours.length);
            assertArrayEquals(Arrays.copyOfRange(content, 1 << 20, content.length), ours,
                    "our pc.ram equals what QEMU's pc.ram was mapped from");
        } finally {
            try {
                listener.close();
            } catch (IOException ignored) {
                // already closed by acceptAll
            }
        }
    }
}
