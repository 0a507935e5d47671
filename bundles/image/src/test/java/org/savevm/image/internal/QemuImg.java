package org.savevm.image.internal;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real qemu-img and qemu-io (QEMU 7.2) as judges; tests using them are skipped, saying why, when missing. */
public final class QemuImg {
    public static final String QEMU_IMG = "qemu-img";
    public static final String QEMU_IO = "qemu-io";

    private QemuImg() {
    }

    public static boolean installed(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    public static void assumeInstalled() {
        assumeTrue(installed(QEMU_IMG) && installed(QEMU_IO),
                "qemu-img/qemu-io (QEMU 7.2) are not installed: skipping the interop check with real QEMU");
    }

    public record Result(int exit, String out, String err) {
    }

    /** Runs a tool and returns its exit code and output (no assertion on the exit code). */
    public static Result run(String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Path err = Files.createTempFile("qemu-err", ".txt");
        try {
            pb.redirectError(err.toFile());
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(Arrays.toString(cmd) + " did not finish");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** Runs a tool that must succeed; returns its stdout. */
    public static String ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(cmd);
        if (r.exit() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " exited " + r.exit() + ": " + r.err() + r.out());
        }
        return r.out();
    }

    /** qemu-io -c CMD... on an image of the given format. */
    public static String io(Path image, String format, String... commands) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(QEMU_IO, "-f", format));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        String out = ok(cmd.toArray(String[]::new));
        if (out.contains("error") || out.contains("failed")) {
            throw new AssertionError("qemu-io " + String.join(" ", commands) + ": " + out);
        }
        return out;
    }
}
