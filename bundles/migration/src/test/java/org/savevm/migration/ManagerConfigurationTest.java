package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.migration.internal.MigrationManager;

/** The ConfigAdmin side of the manager: a valid configuration applies, an invalid one changes nothing. */
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
}
