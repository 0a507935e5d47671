package org.savevm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.api.RegisteredSection;
import org.savevm.api.SaveVm;
import org.savevm.core.TimerSectionCorpusTest.RoutingEngine;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.internal.RamHandler;
import org.savevm.registry.internal.HandlerRegistry;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.timer.internal.VirtualClockComponent;

/**
 * The whole chain with the project's real pieces: a QEMU stream is loaded by this core into the ram
 * bundle's handler (RAM contents), the timer component and blob devices, registered in the real
 * registry; saved again by this core; loaded once more by us (same RAM hash) and by QEMU 7.2.
 */
class EndToEndQemuTest {
    @TempDir
    Path tmp;

    final VirtualClockComponent clock = new VirtualClockComponent(Map.of());
    final SimulatedMachine machine = new SimulatedMachine("pc-i440fx-7.2", 16L << 20);
    final SimulatedMachine machine2 = new SimulatedMachine("pc-i440fx-7.2", 16L << 20);

    @AfterEach
    void close() throws InterruptedException {
        clock.deactivate();
        machine.close();
        machine2.close();
    }

    @Test
    void corpusThroughOurLoaderAndSaverIntoQemu() throws Exception {
        byte[] s = CorpusStreams.bytes("paused-16M.mig");
        FakeRegistry described = CorpusStreams.registryFor(s, new SkippingRamHandler());
        HandlerRegistry registry = new HandlerRegistry();
        // registered in any order: the registry never hands out section id 0, which QEMU's loader would
        // confuse with "not loaded yet" when routing PART/END (see HandlerRegistry)
        registry.add(new RamHandler(machine), "org.savevm.ram");
        registry.add(clock, "org.savevm.timer");
        for (RegisteredSection r : described.sections()) {
            if (r.handler() instanceof DeviceStateHandler<?> && !r.idstr().equals("timer")) {
                registry.add(r.handler(), "test.devices");
            }
        }
        String emptyHash = machine.ramHash();
        new SaveVmService(registry, new RoutingEngine(), Map.of()).load(MigrationInput.of(s), MigrationSettings.DEFAULTS);
        String loadedHash = machine.ramHash();
        assertNotEquals(emptyHash, loadedHash, "the corpus RAM (SeaBIOS ROMs) did not arrive");

        Path file = tmp.resolve("e2e.mig");
        try (MigrationOutput out = new MigrationOutput(FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE))) {
            try (SaveVm.Outgoing o = new SaveVmService(registry, new RoutingEngine(), Map.of()).beginSave(out,
                    MigrationSettings.DEFAULTS)) {
                while (!o.iterate()) {
                    // the guest is stopped: RAM converges
                }
                o.complete();
            }
        }

        HandlerRegistry second = new HandlerRegistry();
        for (RegisteredSection r : registry.sections()) {
            second.add(r.handler() instanceof RamHandler ? new RamHandler(machine2) : r.handler(), r.bundle());
        }
        try (MigrationInput in = new MigrationInput(FileChannel.open(file))) {
            new SaveVmService(second, new RoutingEngine(), Map.of()).load(in, MigrationSettings.DEFAULTS);
        }
        assertEquals(loadedHash, machine2.ramHash());

        assumeTrue(QemuAcceptsTest.haveQemu(), "qemu-system-x86_64 or python3 not installed");
        QemuAcceptsTest q = new QemuAcceptsTest();
        q.tmp = tmp;
        assertEquals("COMPLETED", q.qemuAccepts(file));
    }
}
