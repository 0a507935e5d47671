package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.settings.MigrationFeatures;
import org.savevm.api.settings.MigrationParameters;
import org.savevm.migration.params.ConfigProperties;
import org.savevm.migration.params.FeatureTable;
import org.savevm.migration.params.MigrationConfigState;

class ParametersTest {
    /** What the ram bundle's RamFeatures declares: this module's tests run without the ram bundle. */
    static final MigrationFeatures RAM = MigrationFeatures.of(java.util.Set.of("xbzrle", "compress", "postcopy-ram",
            "x-ignore-shared", "release-ram"), java.util.Set.of("xbzrle-cache-size", "compress-level", "compress-threads",
            "compress-wait-thread", "decompress-threads"));

    /** Settings as the orchestrator has them with the ram handler installed. */
    static MigrationConfigState withRam() {
        return new MigrationConfigState(FeatureTable.with(java.util.List.of(RAM)));
    }

    private static String refusal(MigrationConfigState s, String name, String value) {
        return assertThrows(IllegalArgumentException.class, () -> s.setParameter(name, value)).getMessage();
    }

    @Test
    void multifdCompressionIsAnEnumOfNoneAndZlib() {
        MigrationConfigState s = withRam();
        assertEquals(0, s.parameter("multifd-compression"));
        s.setParameter("multifd-compression", "zlib");
        assertEquals(1, s.parameter("multifd-compression"));
        assertEquals("zlib", MigrationParameters.spec("multifd-compression").display(1));
        assertEquals("Parameter 'multifd_compression' does not accept value 'zstd'",
                refusal(s, "multifd-compression", "zstd"));
        assertEquals(1, s.parameter("multifd-compression"), "a refused value leaves the old one");
    }

    @Test
    void defaultsAreQemu72s() {
        MigrationConfigState s = withRam();
        assertEquals(128L << 20, s.parameter("max-bandwidth"));
        assertEquals(300, s.parameter("downtime-limit"));
        assertEquals(64L << 20, s.parameter("xbzrle-cache-size"));
        assertEquals(1, s.parameter("compress-level"));
        assertEquals(8, s.parameter("compress-threads"));
        assertEquals(2, s.parameter("decompress-threads"));
        assertEquals(20, s.parameter("cpu-throttle-initial"));
        assertEquals(10, s.parameter("cpu-throttle-increment"));
        assertEquals(0, s.parameter("cpu-throttle-tailslow"));
        assertEquals(99, s.parameter("max-cpu-throttle"));
        assertEquals(50, s.parameter("throttle-trigger-threshold"));
        assertEquals(1, s.parameter("send-configuration"));
        assertTrue(s.capabilities().isEmpty());
    }

    @Test
    void outOfRangeValuesAreRefusedWithQemusMessages() {
        MigrationConfigState s = withRam();
        assertEquals("Parameter 'compress_level' expects a value between 0 and 9", refusal(s, "compress-level", "10"));
        assertEquals("Parameter 'compress_threads' expects a value between 1 and 255", refusal(s, "compress-threads", "0"));
        assertEquals("Parameter 'decompress_threads' expects a value between 1 and 255",
                refusal(s, "decompress-threads", "0"));
        assertEquals("Parameter 'cpu_throttle_initial' expects an integer in the range of 1 to 99",
                refusal(s, "cpu-throttle-initial", "100"));
        assertEquals("Parameter 'cpu_throttle_increment' expects an integer in the range of 1 to 99",
                refusal(s, "cpu-throttle-increment", "0"));
        assertEquals("Parameter 'throttle_trigger_threshold' expects an integer in the range of 1 to 100",
                refusal(s, "throttle-trigger-threshold", "101"));
        assertEquals("Parameter 'downtime_limit' expects an integer in the range of 0 to (2000 * 1000) ms",
                refusal(s, "downtime-limit", "2000001"));
        assertEquals("Parameter 'xbzrle_cache_size' expects a power of two no less than the target page size",
                refusal(s, "xbzrle-cache-size", "5000B"));
        assertEquals("Parameter 'xbzrle_cache_size' expects a power of two no less than the target page size",
                refusal(s, "xbzrle-cache-size", "2K"));
        assertEquals("Parameter 'multifd_zstd_level' expects a value between 0 and 20", refusal(s, "multifd-zstd-level", "21"));
        assertEquals("Parameter 'nonsense' is unexpected", refusal(s, "nonsense", "1"));
        // Every refusal left the values alone.
        assertEquals(1, s.parameter("compress-level"));
        assertEquals(64L << 20, s.parameter("xbzrle-cache-size"));
    }

    @Test
    void maxCpuThrottleMustNotBeBelowTheInitialThrottle() {
        MigrationConfigState s = withRam();
        s.setParameter("cpu-throttle-initial", "30");
        assertEquals("Parameter 'max_cpu_throttle' expects an integer in the range of cpu_throttle_initial to 99",
                refusal(s, "max-cpu-throttle", "29"));
        s.setParameter("max-cpu-throttle", "30");
        assertEquals(30, s.parameter("max-cpu-throttle"));
        // Raising the initial throttle above the max is caught by the same whole-set check.
        assertThrows(IllegalArgumentException.class, () -> s.setParameter("cpu-throttle-initial", "31"));
        assertEquals(30, s.parameter("cpu-throttle-initial"));
    }

    @Test
    void sizesReadLikeHmp() {
        MigrationConfigState s = withRam();
        s.setParameter("max-bandwidth", "64M");
        assertEquals(64L << 20, s.parameter("max-bandwidth"));
        s.setParameter("max-bandwidth", "10");
        assertEquals(10L << 20, s.parameter("max-bandwidth"), "a bare size is MiB in HMP");
        s.setParameter("max-bandwidth", "1.5G");
        assertEquals(3L << 29, s.parameter("max-bandwidth"));
        s.setParameter("xbzrle-cache-size", "256M");
        assertEquals(256L << 20, s.parameter("xbzrle-cache-size"));
        s.setParameter("cpu-throttle-tailslow", "on");
        assertEquals(1, s.parameter("cpu-throttle-tailslow"));
        assertThrows(IllegalArgumentException.class, () -> s.setParameter("max-bandwidth", "-1"));
        assertThrows(IllegalArgumentException.class, () -> s.setParameter("max-bandwidth", "lots"));
        assertThrows(IllegalArgumentException.class, () -> s.setParameter("compress-level", "high"));
    }

    @Test
    void capabilitiesRefuseWhatIsNotImplemented() {
        MigrationConfigState s = withRam();
        s.setCapability("xbzrle", true);
        s.setCapability("auto-converge", true);
        String msg = assertThrows(IllegalArgumentException.class, () -> s.setCapability("x-colo", true)).getMessage();
        assertEquals("QEMU compiled without replication module can't enable COLO", msg, "QEMU 7.2's wording");
        assertEquals("Capability 'warp-drive' is unexpected",
                assertThrows(IllegalArgumentException.class, () -> s.setCapability("warp-drive", true)).getMessage());
        s.setCapability("xbzrle", false);
        assertEquals(java.util.Set.of("auto-converge"), s.capabilities());
        assertTrue(s.snapshot().capability("auto-converge"));
        assertFalse(s.snapshot().capability("xbzrle"));
    }

    @Test
    void configAdminPropertiesApplyAsAWhole() {
        Map<String, Object> props = Map.of("max-bandwidth", 1048576L, "downtime-limit", "500",
                "capabilities", new String[] {"xbzrle", "compress"}, "xbzrle-cache-size", "32M");
        MigrationConfigState s = withRam();
        s.setParameters(ConfigProperties.parameters(props));
        ConfigProperties.capabilities(props).ifPresent(s::setCapabilities);
        assertEquals(1048576L, s.parameter("max-bandwidth"));
        assertEquals(500, s.parameter("downtime-limit"));
        assertEquals(32L << 20, s.parameter("xbzrle-cache-size"));
        assertEquals(java.util.Set.of("compress", "xbzrle"), s.capabilities());

        Map<String, Long> bad = ConfigProperties.parameters(Map.of("downtime-limit", 100L, "compress-level", 12L));
        assertThrows(IllegalArgumentException.class, () -> s.setParameters(bad));
        assertEquals(500, s.parameter("downtime-limit"), "a refused configuration changes nothing");
    }
}
