package org.savevm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.api.RegisteredSection;
import org.savevm.api.SaveVm;
import org.savevm.api.StateHandler;
import org.savevm.core.TimerSectionCorpusTest.RoutingEngine;
import org.savevm.core.testing.BlobDevice;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.RamLayoutReplayHandler;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.registry.internal.HandlerRegistry;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.timer.internal.VirtualClockComponent;

/**
 * The corpus through the lead's registry (device paths, order keys, section ids given on arrival) with
 * the real timer component: it loads, and a save writes the timer first among the FULL sections.
 */
class RealRegistryTest {
    final VirtualClockComponent clock = new VirtualClockComponent(Map.of());

    @AfterEach
    void stopClock() throws InterruptedException {
        clock.deactivate();
    }

    @Test
    void corpusLoadsAndSavesThroughTheRealRegistry() throws IOException {
        byte[] s = CorpusStreams.bytes("paused-16M.mig");
        SkippingRamHandler ram = new SkippingRamHandler();
        FakeRegistry described = CorpusStreams.registryFor(s, ram);
        HandlerRegistry registry = new HandlerRegistry();
        // arrival order deliberately not the stream order: devices first (reversed), the clock last
        List<StateHandler> handlers = new ArrayList<>();
        for (RegisteredSection r : described.sections()) {
            if (r.handler() instanceof DeviceStateHandler<?> && !r.idstr().equals("timer")) {
                handlers.add(0, r.handler());
            }
        }
        for (StateHandler h : handlers) {
            assertTrue(registry.add(h, "test.devices"), h.registration().toString());
        }
        assertTrue(registry.add(ram, "test.ram"));
        assertTrue(registry.add(clock, "org.savevm.timer"));
        assertEquals(List.of(), registry.refused());

        new SaveVmService(registry, new RoutingEngine(), Map.of()).load(MigrationInput.of(s), MigrationSettings.DEFAULTS);
        for (StateHandler h : handlers) {
            assertEquals(1, ((BlobDevice) h).commits, h.registration().fullIdstr());
        }
        assertTrue(ram.completed);

        // save again: replace the loader-only ram handler by one that can write its START
        HandlerRegistry saving = new HandlerRegistry();
        for (StateHandler h : handlers) {
            saving.add(h, "test.devices");
        }
        saving.add(new RamLayoutReplayHandler(ram.blocks), "test.ram");
        saving.add(clock, "org.savevm.timer");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            try (SaveVm.Outgoing o = new SaveVmService(saving, new RoutingEngine(), Map.of()).beginSave(out,
                    MigrationSettings.DEFAULTS)) {
                o.iterate();
                o.complete();
            }
        }
        byte[] ours = bytes.toByteArray();
        // ram START, PART, END (with footers), then the first FULL section is the timer
        int start = 26;
        int startLen = 1 + 4 + 4 + 4 + 4 + 8 + ram.blocks.keySet().stream().mapToInt(n -> 1 + n.length() + 8).sum() + 8
                + 5;
        int firstFull = start + startLen + (5 + 8 + 5) * 2;
        assertEquals(4, ours[firstFull]);
        assertEquals("timer", new String(ours, firstFull + 6, 5));
        // the PIIX3 section keeps its qdev path and its body
        BlobDevice piix3 = (BlobDevice) described.find("0000:00:01.0/PIIX3", 0).orElseThrow().handler();
        byte[] name = "0000:00:01.0/PIIX3".getBytes();
        int at = BadInputTest.indexOf(ours, name);
        int bodyAt = at + name.length + 8;
        assertArrayEquals(piix3.data(), java.util.Arrays.copyOfRange(ours, bodyAt, bodyAt + piix3.data().length));
        assertEquals(0, ByteBuffer.wrap(ours, at + name.length, 4).getInt());
        assertEquals(piix3.registration().version(), ByteBuffer.wrap(ours, at + name.length + 4, 4).getInt());
    }
}
