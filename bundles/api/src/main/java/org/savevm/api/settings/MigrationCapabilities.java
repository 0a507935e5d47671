package org.savevm.api.settings;

import java.util.List;
import java.util.Set;

/** QEMU 7.2's MigrationCapability names in enum order, and which of them the configuration section validates. */
public final class MigrationCapabilities {
    /** qapi/migration.json MigrationCapability, 7.2, in declaration order (info-migrate shows them so). */
    public static final List<String> ALL = List.of("xbzrle", "rdma-pin-all", "auto-converge", "zero-blocks",
            "compress", "events", "postcopy-ram", "x-colo", "release-ram", "block", "return-path",
            "pause-before-switchover", "multifd", "dirty-bitmaps", "postcopy-blocktime", "late-block-activate",
            "x-ignore-shared", "validate-uuid", "background-snapshot", "zero-copy-send", "postcopy-preempt");

    /**
     * should_validate_capability in 7.2: only x-ignore-shared. The source lists these in the configuration
     * section and the destination refuses a stream whose list differs from its own.
     */
    public static final Set<String> VALIDATED = Set.of("x-ignore-shared");

    private MigrationCapabilities() {
    }

    /** Whether QEMU 7.2 has a capability of this name. */
    public static boolean known(String name) {
        return ALL.contains(name);
    }
}
