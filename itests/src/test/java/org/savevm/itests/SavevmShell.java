package org.savevm.itests;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An interactive {@code java -jar savevm.jar} (the Gogo shell on stdin), optionally started through a prefix such as
 * {@code ip netns exec NS}: commands are sent one at a time and their output is taken up to an echoed marker.
 */
final class SavevmShell implements AutoCloseable {
    private static final Pattern HASH = Pattern.compile("ram hash: (\\S+)");

    private final Process process;
    private final StringBuffer out = new StringBuffer();
    private final StringBuffer err = new StringBuffer();
    private int markers;

    SavevmShell(Path workDir, List<String> prefix, String... launcherArgs) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-jar");
        cmd.add(Provision.launcherJar().getAbsolutePath());
        cmd.addAll(List.of(launcherArgs));
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
        }, "savevm-shell-output");
        t.setDaemon(true);
        t.start();
    }

    /** Runs {@code command} and returns what it printed, waiting at most {@code seconds}. */
    String run(String command, long seconds) throws Exception {
        String marker = "@@done-" + (++markers) + "@@";
        int from = out.length();
        OutputStream stdin = process.getOutputStream();
        stdin.write((command + "\necho " + marker + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (out.indexOf(marker, from) < 0) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("'" + command + "' did not finish within " + seconds + " s\nstdout:\n" + out
                        + "\nstderr:\n" + err);
            }
            Thread.sleep(20);
        }
        return out.substring(from, out.indexOf(marker, from));
    }

    String run(String command) throws Exception {
        return run(command, 60);
    }

    /** The machine's RAM hash ({@code machine}). */
    String ramHash() throws Exception {
        String o = run("machine");
        Matcher m = HASH.matcher(o);
        if (!m.find()) {
            throw new AssertionError("no ram hash in: " + o);
        }
        return m.group(1);
    }

    /** Polls {@code info-migrate} until its status line shows one of {@code statuses}; returns that output. */
    String awaitStatus(long seconds, String... statuses) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            String o = run("info-migrate");
            for (String s : statuses) {
                if (o.contains("status: " + s)) {
                    return o;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("status not " + List.of(statuses) + " after " + seconds + " s: " + o);
            }
            Thread.sleep(200);
        }
    }

    boolean alive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    String output() {
        return out + "\nstderr:\n" + err;
    }

    /** SIGKILL: the process ends without any cleanup. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.getOutputStream().close();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
