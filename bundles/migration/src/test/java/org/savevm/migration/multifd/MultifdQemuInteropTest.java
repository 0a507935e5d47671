package org.savevm.migration.multifd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.MultifdSender;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.internal.QemuProcess;
import org.savevm.ram.internal.RamOnlyStream;
import org.savevm.stream.MigrationOutput;

/**
 * Real QEMU 7.2, as a destination with the multifd capability and two channels, loads a live stream whose
 * ram pages we send through our multifd channels (zero pages in the section, the rest in packets, a SYNC
 * before every EOS), over several rounds that rewrite pages; its guest memory then equals ours (QMP
 * pmemsave of pc.ram above 1 MiB). Skipped when qemu-system-x86_64 is not installed.
 */
class MultifdQemuInteropTest {
    private static final long RAM = 16L << 20;
    private static final int PAGE = 4096;

    private static void mutate(RamBlock ram, Random rnd, int writes) {
        byte[] buf = new byte[PAGE];
        long pages = ram.pages();
        for (int i = 0; i < writes; i++) {
            long page = rnd.nextInt(4) == 0 ? rnd.nextLong(pages) : rnd.nextLong(64);
            if (rnd.nextInt(4) == 0) {
                ram.fill(page * PAGE, PAGE, (byte) 0);
            } else {
                rnd.nextBytes(buf);
                ram.write(page * PAGE, buf, 0, PAGE);
            }
        }
    }

    @ParameterizedTest(name = "multifd-compression {0}")
    @ValueSource(strings = {"none", "zlib"})
    void qemuLoadsRamSentThroughOurMultifdChannels(String compression, @TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(QemuProcess.installed(),
                QemuProcess.QEMU + " is not installed: skipping the real-QEMU multifd check");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", RAM)) {
            RamBlock ram = m.ramBlock("pc.ram").orElseThrow();
            Random rnd = new Random(42);
            mutate(ram, rnd, 3000);
            Path dump = dir.resolve("mem.bin");
            try (QemuProcess qemu = QemuProcess.destination(dir, "16M")) {
                qemu.command("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": "
                        + "[{\"capability\": \"multifd\", \"state\": true}]}}");
                qemu.command("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"multifd-channels\": 2, "
                        + "\"multifd-compression\": \"" + compression + "\"}}");
                qemu.command("{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:"
                        + port + "\"}}");
                RamMigrationStats stats = send(m, ram, rnd, port, compression.equals("zlib"));
                assertTrue(stats.normal() > 1000, "pages went through the channels: " + stats.normal());
                qemu.awaitCompleted();
                qemu.assertPcRamEquals(ram, RAM, dump);
            }
        }
    }

    /** Main stream framed as QEMU writes it (only the ram section), channels opened after it. */
    private static RamMigrationStats send(SimulatedMachine m, RamBlock ram, Random rnd, int port, boolean zlib)
            throws Exception {
        InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        SocketChannel main = connect(at);
        List<SocketChannel> channels = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            channels.add(SocketChannel.open(at));
        }
        try (MultifdSendChannels multifd = new MultifdSendChannels(channels, zlib ? 1 : -1)) {
            MigrationContext context = new MigrationContext(MigrationSettings.DEFAULTS.withCapability("multifd", true)
                    .withParameter("multifd-channels", 2));
            context.publish(MultifdSender.class, multifd);
            MigrationOutput out = new MigrationOutput(main, 1 << 16);
            RamMigrationStats stats = RamOnlyStream.write(out, m, context, 5, () -> mutate(ram, rnd, 300));
            main.shutdownOutput();
            assertTrue(multifd.bytes() > 0);
            return stats;
        } finally {
            main.close();
        }
    }

    private static SocketChannel connect(InetSocketAddress at) throws Exception {
        for (int i = 0; ; i++) {
            try {
                return SocketChannel.open(at);
            } catch (IOException e) {
                if (i > 100) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }
}
