package org.savevm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.savevm.api.MigrationSettings;
import org.savevm.api.RegisteredSection;
import org.savevm.api.SaveVm;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.BlobState;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.timer.internal.VirtualClockComponent;
import org.savevm.vmstate.internal.VMStateEngineComponent;

/**
 * The real timer component through the real vmstate engine and this savevm core: loads QEMU's "timer"
 * section and writes the same FULL section and vmdesc entry QEMU wrote.
 */
class TimerSectionCorpusTest {
    /** Blob devices through the blob engine, everything else through the real engine. */
    static final class RoutingEngine implements VMStateEngine {
        final VMStateEngine real = new VMStateEngineComponent(Map.of());
        final BlobEngine blob = new BlobEngine();

        @Override
        public <T> void save(MigrationOutput out, VMStateDescription<T> d, T state, StringBuilder vmdesc)
                throws IOException {
            (state instanceof BlobState ? blob : real).save(out, d, state, vmdesc);
        }

        @Override
        public <T> void load(MigrationInput in, VMStateDescription<T> d, T state, int version) throws IOException {
            (state instanceof BlobState ? blob : real).load(in, d, state, version);
        }
    }

    final VirtualClockComponent clock = new VirtualClockComponent(Map.of());

    @AfterEach
    void stopClock() throws InterruptedException {
        clock.deactivate();
    }

    @Test
    void corpusTimerSectionLoadsIntoTheClockAndSavesIdentically() throws IOException {
        byte[] s = CorpusStreams.bytes("paused-16M.mig");
        FakeRegistry reg = new FakeRegistry();
        reg.add(new SkippingRamHandler(), 2);
        reg.add(clock, 0);
        FakeRegistry blobs = CorpusStreams.registryFor(s, new SkippingRamHandler());
        int id = 100;
        for (RegisteredSection r : blobs.sections()) {
            if (r.handler() instanceof org.savevm.api.DeviceStateHandler<?> && !r.idstr().equals("timer")) {
                reg.add(r.handler(), id++, r.idstr(), r.instanceId(), r.version());
            }
        }
        clock.start(); // the stream's value must replace whatever the clock has
        clock.stop();
        new SaveVmService(reg, new RoutingEngine(), Map.of()).load(MigrationInput.of(s), MigrationSettings.DEFAULTS);
        assertEquals(0, clock.nowNs());

        FakeRegistry onlyTimer = new FakeRegistry().add(clock, 0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            try (SaveVm.Outgoing o = new SaveVmService(onlyTimer, new RoutingEngine(), Map.of()).beginSave(out,
                    MigrationSettings.DEFAULTS)) {
                o.iterate();
                o.complete();
            }
        }
        byte[] ours = bytes.toByteArray();
        // FULL header, 24-byte body and footer, byte for byte as in QEMU's stream
        int section = 26;
        byte[] qemuSection = Arrays.copyOfRange(s, BadInputTest.fullHeader(s, 0, "timer"),
                BadInputTest.fullHeader(s, 0, "timer") + 19 + 24 + 5);
        assertArrayEquals(qemuSection, Arrays.copyOfRange(ours, section, section + 19 + 24 + 5));
        assertEquals(0, ours[section + 48]);
        String qemuJson = new String(s, StandardCharsets.ISO_8859_1);
        String ourJson = new String(ours, section + 48 + 5, ours.length - section - 48 - 5, StandardCharsets.UTF_8);
        String entry = ourJson.substring(ourJson.indexOf("[") + 1, ourJson.length() - 2);
        assertTrue(entry.startsWith("{\"name\": \"timer\", \"instance_id\": 0, \"vmsd_name\": \"timer\""), entry);
        assertTrue(qemuJson.contains("\"devices\": [" + entry + ", {\"name\": \"cpu_common\""), entry);
    }
}
