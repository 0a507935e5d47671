package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.MigrationSettings;
import org.savevm.api.migration.MigrationService;
import org.savevm.migration.internal.MigrationManager;

/** The ConfigAdmin side of the manager: a valid configuration applies, an invalid one changes nothing; trySettings changes nothing. */
class ManagerConfigurationTest {
    @Test
    void validConfigurationApplies() {
        MigrationManager m = new MigrationManager(new FakeSaveVm(0, 1), Map.of("max-bandwidth", "1048576",
                "downtime-limit", 50L, "capabilities", "xbzrle,auto-converge", "cpu-throttle-tailslow", true));
        m.addFeatures(ParametersTest.RAM); // DS binds the ram bundle's features after the constructor
        assertEquals(1048576, m.config().parameter("max-bandwidth"), "configuration sizes are bytes");
        assertEquals(50, m.config().parameter("downtime-limit"));
        assertEquals(1, m.config().parameter("cpu-throttle-tailslow"));
        assertTrue(m.config().capabilities().contains("xbzrle"));
        assertTrue(m.config().capabilities().contains("auto-converge"));
    }

    @Test
    void invalidConfigurationKeepsTheDefaults() {
        MigrationManager m = new MigrationManager(new FakeSaveVm(0, 1), Map.of("downtime-limit", 50L,
                "compress-level", 42L));
        assertEquals(300, m.config().parameter("downtime-limit"));
        assertEquals(1, m.config().parameter("compress-level"));
        MigrationManager n = new MigrationManager(new FakeSaveVm(0, 1), Map.of("capabilities", new String[] {"x-colo"}));
        assertTrue(n.config().capabilities().isEmpty());
    }

    /** What the demo checks before it starts its processes: QEMU's refusals, and the manager's own values untouched. */
    @Test
    void trySettingsChecksWithoutChangingTheManager() {
        MigrationManager manager = new MigrationManager(new FakeSaveVm(0, 1), new FakeGuest(false));
        MigrationService m = manager;
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> m.trySettings(List.of("xbzrle"), Map.of()), "xbzrle needs the ram bundle's features");
        assertEquals("Capability 'xbzrle' is not supported: no installed handler implements it", missing.getMessage());
        manager.addFeatures(ParametersTest.RAM);
        m.setParameter("downtime-limit", "50");
        MigrationSettings tried = m.trySettings(List.of("xbzrle"), Map.of("xbzrle-cache-size", "128M"));
        assertTrue(tried.capability("xbzrle"));
        assertEquals(128L << 20, tried.parameter("xbzrle-cache-size", 0));
        assertEquals(300, tried.parameter("downtime-limit", 0), "on top of QEMU's defaults, not of the manager's");
        assertFalse(m.settings().capability("xbzrle"));
        assertEquals(50, m.settings().parameter("downtime-limit", 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.trySettings(List.of(), Map.of("compress-level", "42")));
        assertEquals("Parameter 'compress_level' expects a value between 0 and 9", e.getMessage());
        assertEquals(64L << 20, m.settings().parameter("xbzrle-cache-size", 0));
    }
}
