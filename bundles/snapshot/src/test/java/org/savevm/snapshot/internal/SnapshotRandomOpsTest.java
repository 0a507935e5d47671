package org.savevm.snapshot.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.image.internal.ImageServiceComponent;

/**
 * 100 random savevm / delvm / loadvm on a machine with two qcow2 disks while the guest writes RAM and disks between
 * them (the test writes the disk itself, so no disk dirty rate to wait for): every loadvm restores the RAM and disk hashes recorded at its savevm, the table holds what the model holds,
 * and qemu-img 7.2 check finds both images clean at the end.
 */
class SnapshotRandomOpsTest {
    @TempDir
    Path dir;

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    @Test
    void aHundredRandomOperations() throws Exception {
        assumeTrue(QemuHmp.installed(), "qemu-img (QEMU 7.2) not installed");
        ImageServiceComponent images = new ImageServiceComponent();
        Path f0 = dir.resolve("d0.qcow2");
        Path f1 = dir.resolve("d1.qcow2");
        BlockImage d0 = images.create(f0, ImageFormat.QCOW2, 4L << 20, Optional.empty(), Optional.empty());
        BlockImage d1 = images.create(f1, ImageFormat.QCOW2, 2L << 20, Optional.empty(), Optional.empty());
        Random rnd = new Random(2026);
        Map<String, String> saved = new LinkedHashMap<>();
        try (TestMachine m = new TestMachine(8L << 20, 0, Clock.systemDefaultZone(), true, d0, d1)) {
            for (int op = 0; op < 100; op++) {
                m.runGuest(64 << 10);
                byte[] w = new byte[1 + rnd.nextInt(100_000)];
                rnd.nextBytes(w);
                m.machine.drives().get(0).write(rnd.nextInt((4 << 20) - w.length), ByteBuffer.wrap(w));
                String name = "s" + rnd.nextInt(6);
                int what = rnd.nextInt(3);
                if (what == 0 || saved.isEmpty()) {
                    m.snapshots.save(Optional.of(name), true, Optional.empty(), Optional.empty());
                    saved.remove(name);
                    saved.put(name, state(m));
                } else if (what == 1) {
                    m.snapshots.delete(name, Optional.empty());
                    saved.remove(name);
                } else {
                    String target = List.copyOf(saved.keySet()).get(rnd.nextInt(saved.size()));
                    m.snapshots.load(target, Optional.empty(), Optional.empty());
                    assertEquals(saved.get(target), state(m), "loadvm " + target + " at operation " + op);
                }
                assertEquals(List.copyOf(saved.keySet()),
                        d0.internalSnapshots().orElseThrow().list().stream().map(SnapshotInfo::name).toList());
                assertEquals(List.copyOf(saved.keySet()),
                        d1.internalSnapshots().orElseThrow().list().stream().map(SnapshotInfo::name).toList());
            }
        }
        run("qemu-img", "check", f0.toString());
        run("qemu-img", "check", f1.toString());
    }

    private static String state(TestMachine m) throws Exception {
        return m.machine.ramHash() + " " + m.machine.drives().get(0).contentHash() + " "
                + m.machine.drives().get(1).contentHash() + " " + m.serial.state().scr() + " " + m.clock.nowNs();
    }
}
