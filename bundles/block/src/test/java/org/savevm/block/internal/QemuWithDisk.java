package org.savevm.block.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.savevm.testing.QmpQemu;

/**
 * A real QEMU 7.2 with one raw disk on a virtio-blk device ({@code -drive if=none,id=NAME -device
 * virtio-blk-pci,drive=NAME}: a block stream for a drive without a device makes QEMU 7.2 abort), QMP on stdio.
 */
final class QemuWithDisk implements AutoCloseable {
    static final String QEMU = QmpQemu.QEMU;

    private final QmpQemu qemu;

    static boolean installed() {
        return QmpQemu.onPath(QEMU, "qemu-img");
    }

    /** {@code incoming}: wait with {@code -incoming defer}; else a running source. */
    QemuWithDisk(Path dir, String drive, Path image, boolean incoming) throws Exception {
        this(dir, drive, image, "raw", incoming);
    }

    QemuWithDisk(Path dir, String drive, Path image, String format, boolean incoming) throws Exception {
        List<String> args = new ArrayList<>(List.of("-machine", "pc-i440fx-7.2", "-m", "16M",
                "-drive", "if=none,id=" + drive + ",file=" + image + ",format=" + format,
                "-device", "virtio-blk-pci,drive=" + drive));
        if (incoming) {
            args.addAll(List.of("-S", "-incoming", "defer"));
        }
        qemu = new QmpQemu(dir.resolve("qemu-err-" + System.nanoTime() + ".txt"), args, 60);
    }

    String command(String json) throws Exception {
        return qemu.command(json);
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
        return qemu.stderr();
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
        qemu.close();
    }
}
