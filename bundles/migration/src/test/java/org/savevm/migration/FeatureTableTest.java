package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.savevm.api.settings.MigrationCapabilities;
import org.savevm.api.settings.MigrationFeatures;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.params.FeatureTable;
import org.savevm.migration.params.MigrationConfigState;

/** The one capability/parameter table: installed bundles extend it, what nobody implements is refused. */
class FeatureTableTest {
    /** Stands for the block handler that does not exist yet: it would declare these. */
    private static final MigrationFeatures BLOCK_HANDLER = MigrationFeatures.of(Set.of("block", "zero-blocks"),
            Set.of("block-incremental"));

    private static String refusedCapability(MigrationConfigState s, String name) {
        return assertThrows(IllegalArgumentException.class, () -> s.setCapability(name, true)).getMessage();
    }

    private static String refusedParameter(MigrationConfigState s, String name, String value) {
        return assertThrows(IllegalArgumentException.class, () -> s.setParameter(name, value)).getMessage();
    }

    @Test
    void blockBecomesAvailableWhenABlockHandlerIsInstalledAndGoesWithIt() {
        FeatureTable features = new FeatureTable();
        MigrationConfigState s = new MigrationConfigState(features);
        assertEquals("QEMU compiled without old-style (blk/-b, inc/-i) block migration", refusedCapability(s, "block"),
                "QEMU 7.2's wording for a build without block migration");
        assertEquals("Parameter 'block_incremental' is not supported: it belongs to block migration, which no"
                + " installed handler implements", refusedParameter(s, "block-incremental", "on"));
        assertFalse(features.capabilities().get("block"));

        features.add(BLOCK_HANDLER);
        assertTrue(features.capabilities().get("block"));
        s.setCapability("block", true);
        s.setCapability("zero-blocks", true);
        s.setParameter("block-incremental", "on");
        assertEquals(Set.of("block", "zero-blocks"), s.capabilities());
        assertEquals(1, s.parameter("block-incremental"));
        assertTrue(s.snapshot().capability("block"));

        features.remove(BLOCK_HANDLER);
        assertEquals(Set.of("block", "zero-blocks"), s.dropUnavailable());
        assertEquals(Set.of(), s.capabilities(), "the next migration does not promise block migration");
        assertEquals("QEMU compiled without old-style (blk/-b, inc/-i) block migration", refusedCapability(s, "block"));
    }

    @Test
    void capabilitiesThatDoNothingAreRefused() {
        MigrationConfigState s = ParametersTest.withRam();
        assertEquals("Capability 'postcopy-preempt' is not supported: the postcopy preempt channel is not"
                + " implemented", refusedCapability(s, "postcopy-preempt"));
        assertEquals("Capability 'background-snapshot' is not supported: background snapshots are not implemented",
                refusedCapability(s, "background-snapshot"));
        assertEquals("Capability 'zero-blocks' is not supported: it belongs to block migration, which no installed"
                + " handler implements", refusedCapability(s, "zero-blocks"));
        assertEquals("Capability 'late-block-activate' is not supported: there are no block devices to activate",
                refusedCapability(s, "late-block-activate"));
        assertEquals("Capability 'events' is not supported: MIGRATION events go to QMP clients, and no QMP monitor"
                + " runs (launcher option --qmp)", refusedCapability(s, "events"));
        assertEquals("Capability 'warp-drive' is unexpected", refusedCapability(s, "warp-drive"));
        // Switching off is always allowed for a known name, and refused for an unknown one.
        s.setCapability("postcopy-preempt", false);
        assertThrows(IllegalArgumentException.class, () -> s.setCapability("warp-drive", false));
        // Every name is either available or refused: nothing is accepted and ignored.
        for (String c : MigrationCapabilities.ALL) {
            if (!s.features().capabilityAvailable(c)) {
                assertThrows(IllegalArgumentException.class, () -> s.setCapability(c, true), c);
            }
        }
        assertEquals(Set.of("xbzrle", "auto-converge", "compress", "postcopy-ram", "return-path", "multifd",
                "x-ignore-shared", "validate-uuid", "release-ram", "postcopy-blocktime"), availableCapabilities(s.features()));
        assertTrue(s.capabilities().isEmpty());
    }

    private static Set<String> availableCapabilities(FeatureTable t) {
        Set<String> out = new java.util.HashSet<>();
        t.capabilities().forEach((k, v) -> {
            if (v) {
                out.add(k);
            }
        });
        return out;
    }

    @Test
    void parametersThatDoNothingAreRefusedAfterQemusRangeCheck() {
        MigrationConfigState s = ParametersTest.withRam();
        assertEquals("Parameter 'announce_initial' is not supported: there is no network device to announce",
                refusedParameter(s, "announce-initial", "100"));
        assertEquals("Parameter 'x_checkpoint_delay' is not supported: COLO is not implemented",
                refusedParameter(s, "x-checkpoint-delay", "100"));
        assertEquals("Parameter 'multifd_zstd_level' is not supported: zstd compression is not available",
                refusedParameter(s, "multifd-zstd-level", "3"));
        assertEquals("Parameter 'multifd_zstd_level' expects a value between 0 and 20",
                refusedParameter(s, "multifd-zstd-level", "21"), "a value out of range gets QEMU's message first");
        // The values stay shown (info-migrate --parameters) with QEMU's defaults.
        assertEquals(50, s.parameter("announce-initial"));
        assertEquals(20000, s.parameter("x-checkpoint-delay"));
    }

    @Test
    void ramParametersNeedTheRamHandler() {
        MigrationConfigState orchestratorOnly = new MigrationConfigState();
        assertEquals("Parameter 'xbzrle_cache_size' is not supported: no installed handler implements it",
                refusedParameter(orchestratorOnly, "xbzrle-cache-size", "128M"));
        assertEquals("Capability 'xbzrle' is not supported: no installed handler implements it",
                refusedCapability(orchestratorOnly, "xbzrle"));
        ParametersTest.withRam().setParameter("xbzrle-cache-size", "128M");
    }

    @Test
    void managerAppliesItsConfigurationAgainWhenTheImplementingBundleArrives() {
        // DS applies the configuration in the constructor and binds the MigrationFeatures services after it.
        MigrationManager m = new MigrationManager(new FakeSaveVm(0, 1), Map.of("capabilities", "xbzrle,auto-converge",
                "xbzrle-cache-size", "32M"));
        assertTrue(m.config().capabilities().isEmpty(), "xbzrle is refused while no bundle implements it");
        m.addFeatures(ParametersTest.RAM);
        assertEquals(Set.of("auto-converge", "xbzrle"), m.config().capabilities());
        assertEquals(32L << 20, m.config().parameter("xbzrle-cache-size"));
        m.setCapability("compress", true);
        m.removeFeatures(ParametersTest.RAM);
        assertEquals(Set.of("auto-converge"), m.config().capabilities());
        assertEquals(List.of(), List.copyOf(m.config().dropUnavailable()));
    }
}
