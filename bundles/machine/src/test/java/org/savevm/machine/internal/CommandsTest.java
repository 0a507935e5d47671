package org.savevm.machine.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.machine.internal.commands.GuestCommand;
import org.savevm.machine.internal.commands.MachineCommand;

class CommandsTest {
    @Test
    void machineListsBlocksInMigrationOrder() throws Exception {
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 16L << 20)) {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            assertEquals(0, new MachineCommand(m).run(List.of(), new PrintStream(o, true), System.err));
            String s = o.toString();
            assertTrue(s.indexOf("pc.ram") < s.indexOf("/rom@etc/acpi/tables"), s);
            assertTrue(s.contains("ram hash: " + m.ramHash()), s);
            assertEquals(2, new MachineCommand(m).run(List.of("--bad"), System.out, new PrintStream(new ByteArrayOutputStream())));
        }
    }

    @Test
    void guestPausesResumesAndTunes() throws Exception {
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 1L << 20)) {
            GuestCommand g = new GuestCommand(m);
            PrintStream sink = new PrintStream(new ByteArrayOutputStream());
            assertEquals(0, g.run(List.of("rate", "1M"), sink, sink));
            assertEquals(1L << 20, m.workload().spec().dirtyBytesPerSecond());
            assertEquals(0, g.run(List.of("resume"), sink, sink));
            assertTrue(m.workload().running());
            assertEquals(0, g.run(List.of("throttle", "30"), sink, sink));
            assertEquals(30, m.workload().throttlePercent());
            assertEquals(0, g.run(List.of("pause"), sink, sink));
            assertFalse(m.workload().running());
            assertEquals(2, g.run(List.of("throttle", "100"), sink, sink));
            assertEquals(2, g.run(List.of("fly"), sink, sink));
        }
    }
}
