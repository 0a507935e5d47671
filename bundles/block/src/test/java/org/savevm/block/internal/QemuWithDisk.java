package org.savevm.block.internal;

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
 * A real QEMU 7.2 with one raw disk on a virtio-blk device ({@code -drive if=none,id=NAME -device
 * virtio-blk-pci,drive=NAME}: a block stream for a drive without a device makes QEMU 7.2 abort), QMP on stdio.
 */
final class QemuWithDisk implements AutoCloseable {
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

    /** {@code incoming}: wait with {@code -incoming defer}; else a running source. */
    QemuWithDisk(Path dir, String drive, Path image, boolean incoming) throws Exception {
        this(dir, drive, image, "raw", incoming);
    }

    QemuWithDisk(Path dir, String drive, Path image, String format, boolean incoming) throws Exception {
        stderr = dir.resolve("qemu-err-" + System.nanoTime() + ".txt");
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-nodefaults", "-display", "none", "-qmp", "stdio",
                "-machine", "pc-i440fx-7.2", "-m", "16M",
                "-drive", "if=none,id=" + drive + ",file=" + image + ",format=" + format,
                "-device", "virtio-blk-pci,drive=" + drive));
        if (incoming) {
            cmd.addAll(List.of("-S", "-incoming", "defer"));
        }
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
        assertNotEquals("EOF", l, "QEMU exited: " + stderr());
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

    void capability(String name) throws Exception {
        command("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": [{\"capability\": \""
                + name + "\", \"state\": true}]}}");
    }

    /** Polls query-migrate until completed or failed (60 s at most); fails unless completed. Returns the last answer. */
    String awaitCompleted() throws Exception {
        String status = "";
        for (int i = 0; i < 600 && !status.contains("\"completed\"") && !status.contains("\"failed\""); i++) {
            Thread.sleep(100);
            status = command("{\"execute\": \"query-migrate\"}");
        }
        assertTrue(status.contains("\"completed\""), "QEMU did not complete: " + status + " " + stderr());
        return status;
    }

    String stderr() throws IOException {
        return Files.exists(stderr) ? Files.readString(stderr) : "";
    }

    /** {@code qemu-img compare -f raw -F raw A B}: exit status 0 when the images are identical. */
    static String compare(Path a, Path b) throws Exception {
        Process p = new ProcessBuilder("qemu-img", "compare", "-f", "raw", "-F", "raw", a.toString(), b.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.waitFor() == 0 ? "identical" : out;
    }

    @Override
    public void close() throws Exception {
        try {
            in.write("{\"execute\": \"quit\"}\n");
            in.flush();
        } catch (IOException e) {
            // already gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
