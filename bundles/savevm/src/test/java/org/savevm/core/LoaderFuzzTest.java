package org.savevm.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.api.RegisteredSection;
import org.savevm.api.SaveVm;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.TimerSectionCorpusTest.RoutingEngine;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.internal.RamHandler;
import org.savevm.registry.internal.HandlerRegistry;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.testing.fuzz.FuzzOracle;
import org.savevm.timer.internal.VirtualClockComponent;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: whole streams through the loader ({@link SaveVmService#load}: the walker, configuration checks,
 * commands, the vmdesc check) with the real registry, the real ram handler on the off-heap machine
 * (pc-i440fx-7.2, 16 MiB), the real timer and every other device of the corpus machine as a section of its
 * vmdesc size. Seeds in {@code LoaderFuzzTestInputs/stream}: the QEMU 7.2 corpus stream paused-16M and the
 * stream savevm itself writes for the same machine. Oracle: {@link FuzzOracle}; refusals are IOExceptions.
 */
class LoaderFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("LoaderFuzzTest.stream", IOException.class);
    private static VirtualClockComponent clock;
    private static SimulatedMachine machine;
    private static SaveVmService loader;

    @BeforeAll
    static void start() throws IOException {
        clock = new VirtualClockComponent(Map.of());
        machine = new SimulatedMachine("pc-i440fx-7.2", 16L << 20);
        FakeRegistry described = CorpusStreams.registryFor(CorpusStreams.bytes("paused-16M.mig"),
                new SkippingRamHandler());
        HandlerRegistry registry = new HandlerRegistry();
        registry.add(new RamHandler(machine), "org.savevm.ram");
        registry.add(clock, "org.savevm.timer");
        for (RegisteredSection r : described.sections()) {
            if (r.handler() instanceof DeviceStateHandler<?> && !r.idstr().equals("timer")) {
                registry.add(r.handler(), "test.devices");
            }
        }
        loader = new SaveVmService(registry, new RoutingEngine(), Map.of());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        clock.deactivate();
        machine.close();
        ORACLE.report(System.out);
    }

    /** The stream savevm writes for this registry (how the seed {@code savevm-16M} was made). */
    static byte[] savedStream() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            try (SaveVm.Outgoing o = loader.beginSave(out, MigrationSettings.DEFAULTS)) {
                while (!o.iterate()) {
                    // the guest is stopped: RAM converges
                }
                o.complete();
            }
        }
        return bytes.toByteArray();
    }

    @FuzzTest(maxDuration = "10s")
    void stream(byte[] input) {
        ORACLE.check(input.length, () -> loader.load(MigrationInput.of(input), MigrationSettings.DEFAULTS));
    }
}
