package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.savevm.api.machine.RamBlock;
import org.savevm.testing.QmpQemu;

/**
 * A real QEMU 7.2 for tests, {@code pc-i440fx-7.2 -nodefaults -S} with QMP on stdio: a destination waiting
 * with {@code -incoming defer}, or a source whose pc.ram is a given file. Shared with other bundles' tests
 * through this module's test jar.
 */
public final class QemuProcess implements AutoCloseable {
    public static final String QEMU = QmpQemu.QEMU;

    private final QmpQemu qemu;

    public static boolean installed() {
        return QmpQemu.onPath(QEMU);
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
        List<String> all = new ArrayList<>(List.of("-S"));
        all.addAll(args);
        qemu = new QmpQemu(dir.resolve("qemu-err.txt"), all, 30);
    }

    /** Sends one QMP command and returns its answer, skipping asynchronous events; fails on an error. */
    public String command(String json) throws Exception {
        return qemu.command(json);
    }

    /** Sends one QMP command and returns its answer (an error answer too), skipping asynchronous events. */
    public String tryCommand(String json) throws Exception {
        return qemu.tryCommand(json);
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
        qemu.pmemsave(at, size, file);
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
        return qemu.stderr();
    }

    @Override
    public void close() throws Exception {
        qemu.close();
    }
}
