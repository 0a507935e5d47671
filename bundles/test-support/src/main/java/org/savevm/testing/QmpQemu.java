package org.savevm.testing;

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
 * A real QEMU process ({@code qemu-system-x86_64 -nodefaults -display none -qmp stdio} and the caller's arguments)
 * driven over QMP on its stdin/stdout, for the interop tests: the greeting and qmp_capabilities, commands answered
 * in order with asynchronous events skipped, its stderr kept in a file for the failure messages. The tests' own
 * helpers (a migration end, a VM with a disk, an HMP session) build on it.
 */
public final class QmpQemu implements AutoCloseable {
    public static final String QEMU = "qemu-system-x86_64";

    private final Process process;
    private final Path stderr;
    private final long answerSeconds;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Writer in;

    /** Whether every one of {@code commands} is an executable on the PATH. */
    public static boolean onPath(String... commands) {
        for (String c : commands) {
            boolean found = false;
            for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                found |= Files.isExecutable(Path.of(dir, c));
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }

    /**
     * Starts QEMU with {@code args} after the common ones, its stderr going to {@code stderr}, and completes the QMP
     * handshake; a line QEMU does not send within {@code answerSeconds} fails the caller.
     */
    public QmpQemu(Path stderr, List<String> args, long answerSeconds) throws Exception {
        this.stderr = stderr;
        this.answerSeconds = answerSeconds;
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-nodefaults", "-display", "none", "-qmp", "stdio"));
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
        String greeting = next();
        if (!greeting.contains("QMP")) {
            throw new AssertionError("no QMP greeting from QEMU: " + greeting);
        }
        command("{\"execute\": \"qmp_capabilities\"}");
    }

    private String next() throws Exception {
        String l = lines.poll(answerSeconds, TimeUnit.SECONDS);
        if (l == null) {
            throw new AssertionError("QEMU did not answer");
        }
        if (l.equals("EOF")) {
            throw new AssertionError("QEMU exited: " + stderr());
        }
        return l;
    }

    /** Sends one QMP command and returns its answer, skipping asynchronous events; fails on an error answer. */
    public String command(String json) throws Exception {
        String answer = tryCommand(json);
        if (answer.contains("\"error\"")) {
            throw new AssertionError(json + " -> " + answer);
        }
        return answer;
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

    /** QMP pmemsave of guest-physical [at, at + size) into {@code file}. */
    public void pmemsave(long at, long size, Path file) throws Exception {
        command("{\"execute\": \"pmemsave\", \"arguments\": {\"val\": " + at + ", \"size\": " + size
                + ", \"filename\": \"" + file + "\"}}");
    }

    /** What QEMU wrote to its stderr so far; empty before it wrote anything. */
    public String stderr() throws IOException {
        return Files.exists(stderr) ? Files.readString(stderr) : "";
    }

    /** Asks QEMU to quit, and kills it when it has not gone within 10 s. */
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
