package org.savevm.migration.multifd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.MultifdSender;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.internal.RamHandler;
import org.savevm.stream.MigrationOutput;

/**
 * Real QEMU 7.2, as a destination with the multifd capability and two channels, loads a live stream whose
 * ram pages we send through our multifd channels (zero pages in the section, the rest in packets, a SYNC
 * before every EOS), over several rounds that rewrite pages; its guest memory then equals ours (QMP
 * pmemsave of pc.ram above 1 MiB). Skipped when qemu-system-x86_64 is not installed.
 */
class MultifdQemuInteropTest {
    private static final String QEMU = "qemu-system-x86_64";
    private static final long RAM = 16L << 20;
    private static final int PAGE = 4096;

    private static boolean qemuInstalled() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, QEMU))) {
                return true;
            }
        }
        return false;
    }

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

    @Test
    void qemuLoadsRamSentThroughOurMultifdChannels(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(qemuInstalled(), QEMU + " is not installed: skipping the real-QEMU multifd check");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", RAM)) {
            RamBlock ram = m.ramBlock("pc.ram").orElseThrow();
            Random rnd = new Random(42);
            mutate(ram, rnd, 3000);
            Path dump = dir.resolve("mem.bin");
            Process p = new ProcessBuilder(QEMU, "-machine", "pc-i440fx-7.2", "-nodefaults", "-display", "none", "-S",
                    "-m", "16M", "-incoming", "defer", "-qmp", "stdio").redirectError(dir.resolve("err.txt").toFile())
                    .start();
            try {
                BlockingQueue<String> lines = new LinkedBlockingQueue<>();
                Thread reader = new Thread(() -> {
                    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                            StandardCharsets.UTF_8))) {
                        String l;
                        while ((l = r.readLine()) != null) {
                            lines.add(l);
                        }
                    } catch (IOException e) {
                        // process ended
                    }
                    lines.add("EOF");
                });
                reader.setDaemon(true);
                reader.start();
                Writer w = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
                assertTrue(next(lines).contains("QMP"));
                command(w, lines, "{\"execute\": \"qmp_capabilities\"}");
                command(w, lines, "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": "
                        + "[{\"capability\": \"multifd\", \"state\": true}]}}");
                command(w, lines, "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"multifd-channels\": 2}}");
                command(w, lines, "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:"
                        + port + "\"}}");

                RamMigrationStats stats = send(m, ram, rnd, port);
                assertTrue(stats.normal() > 1000, "pages went through the channels: " + stats.normal());

                String status = "";
                for (int i = 0; i < 300 && !status.contains("\"completed\"") && !status.contains("\"failed\""); i++) {
                    Thread.sleep(100);
                    status = command(w, lines, "{\"execute\": \"query-migrate\"}");
                }
                String err = Files.readString(dir.resolve("err.txt"));
                assertTrue(status.contains("\"completed\""), "QEMU did not complete: " + status + " " + err);
                command(w, lines, "{\"execute\": \"pmemsave\", \"arguments\": {\"val\": 1048576, \"size\": "
                        + (RAM - (1 << 20)) + ", \"filename\": \"" + dump + "\"}}");
                assertFalse(err.contains("error"), err);
            } finally {
                p.destroy();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
            byte[] ours = new byte[(int) (RAM - (1 << 20))];
            ram.read(1 << 20, ours, 0, ours.length);
            byte[] theirs = Files.readAllBytes(dump);
            assertEquals(ours.length, theirs.length);
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            assertEquals(HexFormat.of().formatHex(md.digest(ours)), HexFormat.of().formatHex(md.digest(theirs)),
                    "guest memory in QEMU equals ours");
        }
    }

    /** Main stream framed as QEMU writes it (only the ram section), channels opened after it. */
    private static RamMigrationStats send(SimulatedMachine m, RamBlock ram, Random rnd, int port) throws Exception {
        InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        SocketChannel main = connect(at);
        List<SocketChannel> channels = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            channels.add(SocketChannel.open(at));
        }
        try (MultifdSendChannels multifd = new MultifdSendChannels(channels)) {
            MigrationSettings settings = MigrationSettings.DEFAULTS.withCapability("multifd", true)
                    .withParameter("multifd-channels", 2).withAttachment(MultifdSender.class, multifd);
            MigrationOutput out = new MigrationOutput(main, 1 << 16);
            out.putBe32(0x5145564d).putBe32(3);
            out.putByte(0x07).putBe32(13).putBytes("pc-i440fx-7.2".getBytes(StandardCharsets.US_ASCII));
            int id = 2;
            RamHandler handler = new RamHandler(m);
            try (LiveStateHandler.SaveSession save = handler.beginSave(settings)) {
                out.putByte(0x01).putBe32(id).putCountedString("ram").putBe32(0).putBe32(4);
                save.setup(out);
                out.putByte(0x7e).putBe32(id);
                for (int round = 0; round < 5; round++) {
                    boolean done = false;
                    while (!done) {
                        out.putByte(0x02).putBe32(id);
                        done = save.iterate(out);
                        out.putByte(0x7e).putBe32(id);
                    }
                    mutate(ram, rnd, 300);
                    save.pending(true);
                }
                out.putByte(0x03).putBe32(id);
                save.completePrecopy(out);
                out.putByte(0x7e).putBe32(id);
            }
            out.putByte(0x00);
            byte[] vmdesc = "{\"page_size\": 4096, \"devices\": []}".getBytes(StandardCharsets.US_ASCII);
            out.putByte(0x06).putBe32(vmdesc.length).putBytes(vmdesc);
            out.flush();
            main.shutdownOutput();
            assertTrue(multifd.bytes() > 0);
            return handler.saveStats(settings).orElseThrow();
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

    private static String next(BlockingQueue<String> lines) throws InterruptedException {
        String l = lines.poll(30, TimeUnit.SECONDS);
        assertNotNull(l, "QEMU did not answer");
        assertNotEquals("EOF", l, "QEMU exited");
        return l;
    }

    private static String command(Writer w, BlockingQueue<String> lines, String json) throws Exception {
        w.write(json + "\n");
        w.flush();
        while (true) {
            String l = next(lines);
            if (l.contains("\"event\"")) {
                continue;
            }
            assertFalse(l.contains("\"error\""), json + " -> " + l);
            return l;
        }
    }
}
