package org.savevm.snapshot.internal;

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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A paused QEMU 7.2 ({@code pc-i440fx-7.2}, -nodefaults) with one qcow2 drive behind a virtio-blk-pci device, driven
 * over QMP; HMP commands (savevm, loadvm, info snapshots) go through human-monitor-command.
 */
final class QemuHmp implements AutoCloseable {
    static final String QEMU = "qemu-system-x86_64";

    private final Process process;
    private final Path stderr;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Writer in;

    static boolean installed() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, QEMU)) && Files.isExecutable(Path.of(dir, "qemu-img"))) {
                return true;
            }
        }
        return false;
    }

    QemuHmp(Path dir, String memory, Path disk, String... extra) throws Exception {
        stderr = dir.resolve("qemu-err.txt");
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-nodefaults", "-display", "none", "-S", "-qmp", "stdio",
                "-machine", "pc-i440fx-7.2", "-m", memory, "-drive", "file=" + disk + ",format=qcow2,if=none,id=disk0",
                "-device", "virtio-blk-pci,drive=disk0"));
        cmd.addAll(List.of(extra));
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

    private String next() throws Exception {
        String l = lines.poll(60, TimeUnit.SECONDS);
        assertNotNull(l, "QEMU did not answer");
        assertNotEquals("EOF", l, "QEMU exited: " + Files.readString(stderr));
        return l;
    }

    String command(String json) throws Exception {
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

    /** An HMP command; returns its output (QMP's "return" string, JSON escapes left as they are). */
    String hmp(String line) throws Exception {
        String r = command("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"" + line
                + "\"}}");
        int at = r.indexOf("\"return\": \"");
        return at < 0 ? r : r.substring(at + 11, r.lastIndexOf('"'));
    }

    void pmemsave(long at, long size, Path file) throws Exception {
        command("{\"execute\": \"pmemsave\", \"arguments\": {\"val\": " + at + ", \"size\": " + size
                + ", \"filename\": \"" + file + "\"}}");
    }

    @Override
    public void close() throws Exception {
        try {
            command("{\"execute\": \"quit\"}");
        } catch (AssertionError | Exception e) {
            // already gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
