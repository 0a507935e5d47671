package org.savevm.core.config;

import java.util.List;
import java.util.Set;

/** QEMU 7.2's MigrationCapability names in enum order, and which of them the configuration section validates. */
public final class Capabilities {
    /** qapi/migration.json MigrationCapability, 7.2, in declaration order. */
    public static final List<String> ALL = List.of("xbzrle", "rdma-pin-all", "auto-converge", "zero-blocks",
            "compress", "events", "postcopy-ram", "x-colo", "release-ram", "block", "return-path",
            "pause-before-switchover", "multifd", "dirty-bitmaps", "postcopy-blocktime", "late-block-activate",
            "x-ignore-shared", "validate-uuid", "background-snapshot", "zero-copy-send", "postcopy-preempt");

    /** should_validate_capability in 7.2: only x-ignore-shared. */
    public static final Set<String> VALIDATED = Set.of("x-ignore-shared");

    private Capabilities() {
    }
}
