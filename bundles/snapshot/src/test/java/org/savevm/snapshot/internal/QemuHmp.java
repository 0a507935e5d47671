package org.savevm.snapshot.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.savevm.testing.QmpQemu;

/**
 * A paused QEMU 7.2 ({@code pc-i440fx-7.2}, -nodefaults) with one qcow2 drive behind a virtio-blk-pci device, driven
 * over QMP; HMP commands (savevm, loadvm, info snapshots) go through human-monitor-command.
 */
final class QemuHmp implements AutoCloseable {
    static final String QEMU = QmpQemu.QEMU;

    private final QmpQemu qemu;

    static boolean installed() {
        return QmpQemu.onPath(QEMU, "qemu-img");
    }

    QemuHmp(Path dir, String memory, Path disk, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("-S",
                "-machine", "pc-i440fx-7.2", "-m", memory, "-drive", "file=" + disk + ",format=qcow2,if=none,id=disk0",
                "-device", "virtio-blk-pci,drive=disk0"));
        args.addAll(List.of(extra));
        qemu = new QmpQemu(dir.resolve("qemu-err.txt"), args, 60);
    }

    String command(String json) throws Exception {
        return qemu.command(json);
    }

    /** An HMP command; returns its output (QMP's "return" string, JSON escapes left as they are). */
    String hmp(String line) throws Exception {
        String r = command("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"" + line
                + "\"}}");
        int at = r.indexOf("\"return\": \"");
        return at < 0 ? r : r.substring(at + 11, r.lastIndexOf('"'));
    }

    void pmemsave(long at, long size, Path file) throws Exception {
        qemu.pmemsave(at, size, file);
    }

    @Override
    public void close() throws Exception {
        qemu.close();
    }
}
