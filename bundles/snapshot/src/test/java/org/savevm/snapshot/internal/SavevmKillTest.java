package org.savevm.snapshot.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.api.machine.RamBlock;
import org.savevm.image.internal.ImageServiceComponent;

/**
 * savevm / delvm in a child JVM ({@link SavevmLoopMain}) killed with SIGKILL ({@code destroyForcibly}) at random
 * times: afterwards {@code qemu-img check} finds no error (leaked clusters allowed: a kill while the VM state is
 * written leaks what QEMU's qcow2 leaks there too), {@code qemu-img snapshot -l} and our {@code info snapshots} list
 * the same snapshots, every listed one loads (no half snapshot: its VM state is complete), and a following savevm /
 * loadvm restores RAM exactly. The kill at every single write of the image layer is Qcow2SnapshotCrashTest's (image
 * bundle); this one kills the whole process, at whatever it is doing.
 */
class SavevmKillTest {
    private static final long RAM = 48L << 20;

    @TempDir
    Path dir;

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return p.exitValue() + "\n" + out;
    }

    private static byte[] ram(TestMachine m) {
        RamBlock pc = m.machine.ramBlock("pc.ram").orElseThrow();
        byte[] b = new byte[(int) pc.usedLength()];
        pc.read(0, b, 0, b.length);
        return b;
    }

    @Test
    void killsAtRandomTimesLeaveACleanImageAndNoHalfSnapshot() throws Exception {
        assumeTrue(QemuHmp.installed(), "qemu-img (QEMU 7.2) not installed");
        Path disk = dir.resolve("killed.qcow2");
        new ImageServiceComponent().create(disk, ImageFormat.QCOW2, 32L << 20, Optional.empty(), Optional.empty())
                .close();
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Random rnd = new Random(2026);
        int killedMidRun = 0;
        for (int round = 0; round < 6; round++) {
            Process child = new ProcessBuilder(javaBin, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    SavevmLoopMain.class.getName(), disk.toString(), Long.toString(RAM))
                    .redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            List<String> lines = new ArrayList<>();
            String line = out.readLine();
            if (!"ready".equals(line)) {
                child.destroyForcibly();
                throw new AssertionError("child: " + line + "\n" + drain(out));
            }
            // somewhere in the first few savevm / delvm rounds
            long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200 + rnd.nextInt(1500));
            Thread reader = new Thread(() -> {
                try {
                    for (String l; (l = out.readLine()) != null;) {
                        synchronized (lines) {
                            lines.add(l);
                        }
                    }
                } catch (java.io.IOException e) {
                    // the child died
                }
            });
            reader.start();
            while (System.nanoTime() < killAt && child.isAlive()) {
                Thread.sleep(5);
            }
            assertTrue(child.isAlive(), "the child ended by itself: " + lines);
            child.destroyForcibly();
            child.waitFor();
            reader.join();
            if (!lines.isEmpty()) {
                killedMidRun++;
            }
            String where = "round " + round + " after " + lines;
            String check = run("qemu-img", "check", "-f", "qcow2", disk.toString());
            assertTrue(check.startsWith("0\n") || check.startsWith("3\n"), where + ": qemu-img check " + check);
            String qemuList = run("qemu-img", "snapshot", "-l", disk.toString());
            assertTrue(qemuList.startsWith("0\n"), qemuList);
            BlockImage img = new ImageServiceComponent().open(disk, Optional.empty(), false);
            try (TestMachine m = new TestMachine(RAM, 0, Clock.systemDefaultZone(), false, img)) {
                List<SnapshotInfo> ours = m.snapshots.list().onAllDisks();
                int qemuLines = (int) qemuList.lines().filter(l -> l.matches("^\\d+ .*")).count();
                assertEquals(qemuLines, ours.size(), where + ": qemu-img snapshot -l\n" + qemuList + "ours " + ours);
                for (SnapshotInfo s : ours) {
                    assertTrue(qemuList.contains(" " + s.name() + " "), where + ": " + s.name() + " in " + qemuList);
                    // a listed snapshot is whole: its VM state loads
                    m.snapshots.load(s.name(), Optional.empty(), Optional.empty());
                }
                // and a following savevm / loadvm works and restores RAM exactly
                m.runGuest(1L << 20);
                m.snapshots.save(Optional.of("after"), true, Optional.empty(), Optional.empty());
                byte[] saved = ram(m);
                ByteBuffer d = ByteBuffer.allocate(1 << 20);
                img.read(0, d);
                m.runGuest(2L << 20);
                m.snapshots.load("after", Optional.empty(), Optional.empty());
                assertTrue(java.util.Arrays.equals(saved, ram(m)), where + ": RAM after loadvm");
                ByteBuffer back = ByteBuffer.allocate(1 << 20);
                img.read(0, back);
                assertEquals(d.flip(), back.flip(), where + ": disk after loadvm");
                m.snapshots.delete("after", Optional.empty());
            }
            String again = run("qemu-img", "check", "-f", "qcow2", disk.toString());
            assertTrue(again.startsWith("0\n") || again.startsWith("3\n"), where + ": after: " + again);
        }
        assertTrue(killedMidRun > 0, "no kill came after a finished step");
        Files.deleteIfExists(disk);
    }

    private static String drain(BufferedReader r) throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        for (String l; (l = r.readLine()) != null;) {
            b.append(l).append('\n');
        }
        return b.toString();
    }
}
