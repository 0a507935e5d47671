package org.savevm.itests;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A {@code java -jar savevm.jar ...} child process with its output collected as it arrives. */
final class LauncherProcess implements AutoCloseable {
    private final Process process;
    private final StringBuffer out = new StringBuffer();
    private final StringBuffer err = new StringBuffer();

    LauncherProcess(Path workDir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-jar");
        cmd.add(Provision.launcherJar().getAbsolutePath());
        cmd.addAll(List.of(args));
        process = new ProcessBuilder(cmd).directory(workDir.toFile()).start();
        pump(process.getInputStream(), out);
        pump(process.getErrorStream(), err);
    }

    private static void pump(InputStream in, StringBuffer sink) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    sink.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException ignored) {
                // process gone
            }
        }, "launcher-output");
        t.setDaemon(true);
        t.start();
    }

    String out() {
        return out.toString();
    }

    String err() {
        return err.toString();
    }

    void send(String line) throws IOException {
        OutputStream stdin = process.getOutputStream();
        stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    void closeInput() throws IOException {
        process.getOutputStream().close();
    }

    /** Waits at most {@code seconds} for the exit; returns the exit status or fails the test. */
    int exitWithin(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("savevm.jar still running after " + seconds + " s\nstdout:\n" + out + "\nstderr:\n" + err);
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    static File jar() {
        return Provision.launcherJar();
    }
}
