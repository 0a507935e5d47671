package org.savevm.migration.params;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import org.savevm.api.settings.MigrationCapabilities;
import org.savevm.api.settings.MigrationFeatures;
import org.savevm.api.settings.MigrationParameters;

/**
 * Which of QEMU's capabilities and parameters ({@link MigrationCapabilities}, {@link MigrationParameters}) can be
 * used now: those the orchestrator implements itself ({@link #ORCHESTRATOR}) plus those the installed bundles
 * declare through their {@link MigrationFeatures} services. Everything else is refused with QEMU's wording where
 * QEMU 7.2 has one for a build without the feature, else with the reason it is missing here. Thread-safe.
 */
public final class FeatureTable {
    /**
     * What the orchestrator and the savevm core it drives act on. postcopy-ram is the orchestrator's too (it runs
     * the postcopy phase and the return path); the ram handler names it as well.
     */
    public static final MigrationFeatures ORCHESTRATOR = MigrationFeatures.of(
            Set.of("auto-converge", "postcopy-ram", "return-path", "multifd", "validate-uuid",
                    "postcopy-blocktime"),
            Set.of("throttle-trigger-threshold", "cpu-throttle-initial", "cpu-throttle-increment",
                    "cpu-throttle-tailslow", "max-cpu-throttle", "max-bandwidth", "downtime-limit",
                    "multifd-channels", "multifd-compression", "multifd-zlib-level", "max-postcopy-bandwidth",
                    "send-configuration", "send-section-footer"));

    /**
     * QEMU 7.2's own refusals for a build without the feature (migrate_caps_check); a capability listed here is
     * refused with this text alone.
     */
    private static final Map<String, String> QEMU_REFUSAL = Map.of(
            "block", "QEMU compiled without old-style (blk/-b, inc/-i) block migration",
            "x-colo", "QEMU compiled without replication module can't enable COLO");

    /** Why a capability that no installed bundle implements is missing here (QEMU accepts these). */
    private static final Map<String, String> CAPABILITY_MISSING = Map.ofEntries(
            Map.entry("rdma-pin-all", "RDMA transport is not implemented"),
            Map.entry("zero-blocks", "it belongs to block migration, which no installed handler implements"),
            Map.entry("events", "MIGRATION events go to QMP clients, and no QMP monitor runs (launcher option --qmp)"),
            Map.entry("release-ram", "the source does not release RAM pages during postcopy"),
            Map.entry("pause-before-switchover", "the pre-switchover state is not implemented"),
            Map.entry("dirty-bitmaps", "dirty bitmap migration has no handler here"),
            Map.entry("late-block-activate", "there are no block devices to activate"),
            Map.entry("background-snapshot", "background snapshots are not implemented"),
            Map.entry("zero-copy-send", "zero-copy-send (MSG_ZEROCOPY) is not implemented"),
            Map.entry("postcopy-preempt", "the postcopy preempt channel is not implemented"));

    /** Why a parameter that no installed bundle reads is missing here. */
    private static final Map<String, String> PARAMETER_MISSING = Map.of(
            "x-checkpoint-delay", "COLO is not implemented",
            "block-incremental", "it belongs to block migration, which no installed handler implements",
            "multifd-zstd-level", "zstd compression is not available",
            "announce-initial", "there is no network device to announce",
            "announce-max", "there is no network device to announce",
            "announce-rounds", "there is no network device to announce",
            "announce-step", "there is no network device to announce");

    private final List<MigrationFeatures> installed = new CopyOnWriteArrayList<>(List.of(ORCHESTRATOR));

    /** The orchestrator's own features only; installed bundles are added with {@link #add}. */
    public FeatureTable() {
    }

    /** The orchestrator's features plus {@code installed}. */
    public static FeatureTable with(Collection<MigrationFeatures> installed) {
        FeatureTable t = new FeatureTable();
        installed.forEach(t::add);
        return t;
    }

    public void add(MigrationFeatures features) {
        installed.add(features);
    }

    public void remove(MigrationFeatures features) {
        installed.remove(features);
    }

    public boolean capabilityAvailable(String name) {
        return installed.stream().anyMatch(f -> f.capabilities().contains(name));
    }

    public boolean parameterAvailable(String name) {
        return installed.stream().anyMatch(f -> f.parameters().contains(name));
    }

    /** Every capability in QEMU's order, with true when it may be switched on now. */
    public Map<String, Boolean> capabilities() {
        Map<String, Boolean> m = new LinkedHashMap<>();
        MigrationCapabilities.ALL.forEach(c -> m.put(c, capabilityAvailable(c)));
        return m;
    }

    /** Throws IllegalArgumentException when the capability is unknown or cannot be switched on now. */
    public void checkCapability(String name) {
        checkKnownCapability(name);
        if (!capabilityAvailable(name)) {
            String qemu = QEMU_REFUSAL.get(name);
            throw new IllegalArgumentException(qemu != null ? qemu
                    : "Capability '" + name + "' is not supported: "
                            + CAPABILITY_MISSING.getOrDefault(name, "no installed handler implements it"));
        }
    }

    /** Throws IllegalArgumentException for a name QEMU 7.2 does not have. */
    public static void checkKnownCapability(String name) {
        if (!MigrationCapabilities.known(name)) {
            throw new IllegalArgumentException("Capability '" + name + "' is unexpected");
        }
    }

    /** Throws IllegalArgumentException when the parameter is unknown or nothing installed reads it. */
    public void checkParameter(String name) {
        String field = MigrationParameters.spec(name).qemuField();
        if (!parameterAvailable(name)) {
            throw new IllegalArgumentException("Parameter '" + field + "' is not supported: "
                    + PARAMETER_MISSING.getOrDefault(name, "no installed handler implements it"));
        }
    }
}
