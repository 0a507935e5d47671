package org.savevm.ram.internal;

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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.savevm.api.machine.RamBlock;

/**
 * A real QEMU 7.2 for tests, {@code pc-i440fx-7.2 -nodefaults -S} with QMP on stdio: a destination waiting
 * with {@code -incoming defer}, or a source whose pc.ram is a given file. Shared with other bundles' tests
 * through this module's test jar.
 */
public final class QemuProcess implements AutoCloseable {
    public static final String QEMU = "qemu-system-x86_64";

    private final Process process;
    private final Path stderr;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Writer in;

    public static boolean installed() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, QEMU))) {
                return true;
            }
        }
        return false;
    }

    /** A destination: {@code -incoming defer}, so capabilities can be set before {@code migrate-incoming}. */
    public static QemuProcess destination(Path dir, String memory) throws Exception {
        return destination(dir, memory, List.of());
    }

    /** A destination with further command-line arguments (e.g. {@code -object tls-creds-x509,...}). */
    public static QemuProcess destination(Path dir, String memory, List<String> extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("-machine", "pc-i440fx-7.2", "-m", memory, "-incoming", "defer"));
        args.addAll(extra);
        return new QemuProcess(dir, args);
    }

    /** A paused source whose guest RAM (pc.ram) is a private mapping of {@code ram}, of {@code mib} MiB. */
    public static QemuProcess source(Path dir, int mib, Path ram) throws Exception {
        return source(dir, mib, ram, List.of());
    }

    /** A source with further command-line arguments (e.g. {@code -object tls-creds-x509,...}). */
    public static QemuProcess source(Path dir, int mib, Path ram, List<String> extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("-machine", "pc-i440fx-7.2,memory-backend=pc.ram", "-m", mib + "M",
                "-object", "memory-backend-file,id=pc.ram,size=" + mib + "M,mem-path=" + ram + ",prealloc=on,share=off"));
        args.addAll(extra);
        return new QemuProcess(dir, args);
    }

    private QemuProcess(Path dir, List<String> args) throws Exception {
        stderr = dir.resolve("qemu-err.txt");
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-nodefaults", "-display", "none", "-S", "-qmp", "stdio"));
        cmd.addAll(args);
        process = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    lines.add(l);
                }
            } catch (IOException e) {
                // the process ended
            }
            lines.add("EOF");
        });
        reader.setDaemon(true);
        reader.start();
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        assertTrue(next().contains("QMP"));
        command("{\"execute\": \"qmp_capabilities\"}");
    }

    private String next() throws InterruptedException {
        String l = lines.poll(30, TimeUnit.SECONDS);
        assertNotNull(l, "QEMU did not answer");
        assertNotEquals("EOF", l, "QEMU exited");
        return l;
    }

    /** Sends one QMP command and returns its answer, skipping asynchronous events; fails on an error. */
    public String command(String json) throws Exception {
        in.write(json + "\n");
        in.flush();
        while (true) {
            String l = next();
            if (l.contains("\"event\"")) {
                continue;
            }
            assertFalse(l.contains("\"error\""), json + " -> " + l);
            return l;
        }
    }

    /** Sends one QMP command and returns its answer (an error answer too), skipping asynchronous events. */
    public String tryCommand(String json) throws Exception {
        in.write(json + "\n");
        in.flush();
        while (true) {
            String l = next();
            if (!l.contains("\"event\"")) {
                return l;
            }
        }
    }

    /** Polls query-migrate until completed or failed (30 s at most); fails unless completed. */
    public void awaitCompleted() throws Exception {
        String status = "";
        for (int i = 0; i < 300 && !status.contains("\"completed\"") && !status.contains("\"failed\""); i++) {
            Thread.sleep(100);
            status = command("{\"execute\": \"query-migrate\"}");
        }
        String err = stderr();
        assertTrue(status.contains("\"completed\""), "QEMU did not complete: " + status + " " + err);
        assertFalse(err.contains("error"), err);
    }

    /** QMP pmemsave of guest-physical [at, at + size) into {@code file}. */
    public void pmemsave(long at, long size, Path file) throws Exception {
        command("{\"execute\": \"pmemsave\", \"arguments\": {\"val\": " + at + ", \"size\": " + size
                + ", \"filename\": \"" + file + "\"}}");
    }

    /**
     * Dumps guest-physical memory from 1 MiB up to {@code ramSize} (below it QEMU overlays ROM and VGA on
     * pc.ram) and asserts it equals {@code pcRam} over the same range.
     */
    public void assertPcRamEquals(RamBlock pcRam, long ramSize, Path dump) throws Exception {
        long low = 1 << 20;
        pmemsave(low, ramSize - low, dump);
        byte[] ours = new byte[(int) (ramSize - low)];
        pcRam.read(low, ours, 0, ours.length);
        byte[] theirs = Files.readAllBytes(dump);
        assertEquals(ours.length, theirs.length);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        assertEquals(HexFormat.of().formatHex(md.digest(ours)), HexFormat.of().formatHex(md.digest(theirs)),
                "guest memory in QEMU equals ours");
    }

    public String stderr() throws IOException {
        return Files.readString(stderr);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
