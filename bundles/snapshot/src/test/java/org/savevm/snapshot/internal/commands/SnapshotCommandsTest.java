package org.savevm.snapshot.internal.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.api.SavevmCommand;
import org.savevm.snapshot.SnapshotService;
import org.savevm.snapshot.internal.TestMachines;
import org.savevm.testing.MemoryBlockImage;
import org.savevm.testing.MemorySnapshotImage;

/** The commands as the shell and the one-shot CLI run them: exit codes, HMP's output and "Error: " lines. */
class SnapshotCommandsTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(SavevmCommand c, String... args) throws Exception {
        out.reset();
        err.reset();
        return c.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void hmpCommands() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 1 << 20);
        MemorySnapshotImage d1 = new MemorySnapshotImage("d1", 1 << 20);
        try (AutoCloseable m = TestMachines.open(d0, d1)) {
            SnapshotService s = TestMachines.service(m);
            SavevmCommand info = new InfoSnapshotsCommand(s);
            assertEquals(0, run(info));
            assertEquals("There is no snapshot available.\n", out());

            assertEquals(0, run(new SavevmSnapshotCommand(s), "s1"));
            assertEquals("", out() + err(), "HMP savevm prints nothing");
            assertEquals(0, run(new SavevmSnapshotCommand(s)));
            assertEquals(0, run(info));
            String[] lines = out().split("\n");
            assertEquals("List of snapshots present on all disks:", lines[0]);
            assertTrue(lines[1].startsWith("ID        TAG               VM SIZE"), lines[1]);
            assertTrue(lines[2].startsWith("--        s1               "), lines[2]);
            assertTrue(lines[3].startsWith("--        vm-20261203114309"), lines[3]);
            assertEquals(4, lines.length, out());

            assertEquals(0, run(new LoadvmCommand(s), "s1"));
            // savevm --live prints its pause (QEMU's downtime) and the pages copied before write
            assertEquals(0, run(new SavevmSnapshotCommand(s), "--live", "l1"));
            assertTrue(out().matches("l1: guest paused [0-9.]+ ms \\(downtime\\), saved in [0-9.]+ ms, \\d+ pages "
                    + "copied before write\n"), out());
            assertEquals(0, run(new LoadvmCommand(s), "l1"));
            assertEquals(0, run(new DelvmCommand(s), "l1"));
            assertEquals(2, run(new SavevmSnapshotCommand(s), "--live", "a", "b"));
            assertEquals(0, run(new DelvmCommand(s), "s1"));
            assertEquals(1, run(new LoadvmCommand(s), "s1"));
            assertEquals("Error: Snapshot 's1' does not exist in one or more devices\n", err());
            assertEquals(2, run(new LoadvmCommand(s)));
            assertEquals(2, run(new SavevmSnapshotCommand(s), "a", "b"));
            assertEquals(2, run(new InfoSnapshotsCommand(s), "x"));
        }
    }

    @Test
    void qmpJobForms() throws Exception {
        MemorySnapshotImage d0 = new MemorySnapshotImage("d0", 1 << 20);
        MemoryBlockImage raw = new MemoryBlockImage("raw", 1 << 20);
        try (AutoCloseable m = TestMachines.open(d0, raw)) {
            SnapshotService s = TestMachines.service(m);
            assertEquals(1, run(new SavevmSnapshotCommand(s), "s"));
            assertEquals("Error: Device 'disk1' is writable but does not support snapshots\n", err());
            assertEquals(0, run(new SnapshotSaveCommand(s), "--tag", "s", "--vmstate", "disk0", "--devices", "disk0"));
            assertEquals(1, run(new SnapshotSaveCommand(s), "--tag", "s", "--vmstate", "disk0", "--devices", "disk0"));
            assertEquals("Error: Snapshot 's' already exists in one or more devices\n", err());
            assertEquals(2, run(new SnapshotSaveCommand(s), "--tag", "s", "--devices", "disk0"));
            assertTrue(err().startsWith("snapshot-save: Parameter 'vmstate' is missing\n"), err());
            assertEquals(0, run(new SnapshotLoadCommand(s), "--tag", "s", "--vmstate", "disk0", "--devices", "disk0"));
            assertEquals(0, run(new SnapshotDeleteCommand(s), "--tag", "s", "--devices", "disk0"));
            assertEquals(List.of(), d0.list());
        }
    }
}
