package org.savevm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.core.testing.BlobDevice;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/** Real QEMU 7.2 streams load through the loader, and the compat switches must match. */
class CorpusLoadTest {
    static final MigrationSettings NO_FOOTER = MigrationSettings.DEFAULTS.withParameter("send-section-footer", 0);
    static final MigrationSettings NO_CONFIG = MigrationSettings.DEFAULTS.withParameter("send-configuration", 0);

    record Loaded(FakeRegistry registry, SkippingRamHandler ram) {
    }

    static Loaded load(String name, MigrationSettings settings, Map<String, Object> machine) throws IOException {
        byte[] stream = CorpusStreams.bytes(name);
        SkippingRamHandler ram = new SkippingRamHandler();
        FakeRegistry reg = CorpusStreams.registryFor(stream, ram);
        new SaveVmService(reg, new BlobEngine(), machine).load(MigrationInput.of(stream), settings);
        return new Loaded(reg, ram);
    }

    static void assertAllDevicesLoaded(Loaded l) {
        for (DeviceStateHandler<?> d : l.registry().devices()) {
            assertEquals(1, ((BlobDevice) d).commits, d.registration().fullIdstr());
        }
        assertTrue(l.ram().completed);
        assertEquals(0x1000000L, l.ram().blocks.get("pc.ram"));
        assertEquals(6, l.ram().blocks.size());
        assertEquals(0x1082000L, l.ram().blocks.values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void pausedStreamLoads() throws IOException {
        Loaded l = load("paused-16M.mig", MigrationSettings.DEFAULTS, Map.of());
        assertAllDevicesLoaded(l);
        assertEquals(30, l.registry().devices().size());
        // the timer section of a never-started guest: both offsets 0, 8 unused bytes
        BlobDevice timer = (BlobDevice) l.registry().find("timer", 0).orElseThrow().handler();
        assertArrayEquals(new byte[24], timer.data());
        // globalstate of a guest never started (-S): be32 size 10, then "prelaunch" and its NUL
        BlobDevice global = (BlobDevice) l.registry().find("globalstate", 0).orElseThrow().handler();
        assertEquals(10, global.data()[3]);
        assertEquals("prelaunch\0", new String(global.data(), 4, 10));
    }

    @Test
    void serialStreamLoadsTwoInstances() throws IOException {
        Loaded l = load("serial-16M.mig", MigrationSettings.DEFAULTS, Map.of());
        assertAllDevicesLoaded(l);
        assertEquals(1, ((BlobDevice) l.registry().find("serial", 0).orElseThrow().handler()).commits);
        assertEquals(1, ((BlobDevice) l.registry().find("serial", 1).orElseThrow().handler()).commits);
    }

    @Test
    void noFooterStreamLoadsWithFootersOff() throws IOException {
        assertAllDevicesLoaded(load("nofooter-16M.mig", NO_FOOTER, Map.of()));
    }

    @Test
    void noConfigStreamLoadsWithConfigurationOff() throws IOException {
        assertAllDevicesLoaded(load("noconfig-16M.mig", NO_CONFIG, Map.of()));
    }

    @Test
    void noFooterStreamRefusedWhenFootersOn() {
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> load("nofooter-16M.mig", MigrationSettings.DEFAULTS, Map.of()));
        assertTrue(e.getMessage().contains("Missing section footer for ram"), e.getMessage());
        assertTrue(e.getMessage().contains("section 'ram' instance 0"), e.getMessage());
        assertTrue(e.getMessage().contains("byte offset"), e.getMessage());
    }

    @Test
    void footerStreamRefusedWhenFootersOff() {
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> load("paused-16M.mig", NO_FOOTER, Map.of()));
        assertTrue(e.getMessage().contains("Unknown savevm section type 126"), e.getMessage());
        assertTrue(e.getMessage().contains("send-section-footer is off"), e.getMessage());
    }

    @Test
    void noConfigStreamRefusedWhenConfigurationExpected() {
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> load("noconfig-16M.mig", MigrationSettings.DEFAULTS, Map.of()));
        assertTrue(e.getMessage().startsWith("Configuration section missing"), e.getMessage());
        assertEquals(8, e.offset());
    }

    @Test
    void configStreamRefusedWhenConfigurationOff() {
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> load("paused-16M.mig", NO_CONFIG, Map.of()));
        assertTrue(e.getMessage().contains("Unknown savevm section type 7"), e.getMessage());
        assertEquals(8, e.offset());
    }

    @Test
    void machineTypeMismatchUsesQemuMessage() {
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> load("paused-16M.mig", MigrationSettings.DEFAULTS, Map.of("type", "pc-i440fx-7.1")));
        assertTrue(e.getMessage().contains("Machine type received is 'pc-i440fx-7.2' and local is 'pc-i440fx-7.1'"),
                e.getMessage());
    }

    @Test
    void machineTypeIsComparedAsPrefixLikeQemu() throws IOException {
        // strncmp(received, local, strlen(received)): a local name that extends the received one passes
        assertAllDevicesLoaded(load("paused-16M.mig", MigrationSettings.DEFAULTS, Map.of("type", "pc-i440fx-7.2x")));
        assertThrows(MigrationStreamException.class,
                () -> load("paused-16M.mig", MigrationSettings.DEFAULTS, Map.of("type", "pc-i440fx-7")));
    }
}
