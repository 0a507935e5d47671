package org.savevm.migration.params;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * QEMU 7.2's migration capabilities (enum MigrationCapability) and whether this orchestrator can run
 * with each one on. An unsupported capability is refused when it is switched on, with the reason, so
 * that a migration never starts with a promise it cannot keep.
 */
public final class CapabilityTable {
    private static final Map<String, String> UNSUPPORTED_REASON = new LinkedHashMap<>();
    private static final Map<String, Boolean> ALL = new LinkedHashMap<>();

    static {
        supported("xbzrle");
        unsupported("rdma-pin-all", "RDMA transport is not implemented");
        supported("auto-converge");
        supported("zero-blocks");
        supported("compress");
        supported("events");
        supported("postcopy-ram");
        unsupported("x-colo", "COLO is not implemented");
        supported("release-ram");
        unsupported("block", "block migration has no handler here");
        supported("return-path");
        unsupported("pause-before-switchover", "the pre-switchover state is not implemented");
        supported("multifd");
        unsupported("dirty-bitmaps", "dirty bitmap migration has no handler here");
        supported("postcopy-blocktime");
        supported("late-block-activate");
        supported("x-ignore-shared");
        supported("validate-uuid");
        unsupported("background-snapshot", "background snapshots are not implemented");
        unsupported("zero-copy-send", "zero-copy-send (MSG_ZEROCOPY) is not implemented");
        unsupported("postcopy-preempt", "postcopy is not implemented by the migration orchestrator yet (precopy only)");
    }

    private CapabilityTable() {
    }

    private static void supported(String name) {
        ALL.put(name, true);
    }

    private static void unsupported(String name, String why) {
        ALL.put(name, false);
        UNSUPPORTED_REASON.put(name, why);
    }

    /** Every capability name in QEMU's order, with true when it may be switched on. */
    public static Map<String, Boolean> all() {
        return Collections.unmodifiableMap(ALL);
    }

    /** Throws IllegalArgumentException when the capability is unknown or cannot be switched on. */
    public static void checkEnable(String name) {
        Boolean ok = ALL.get(name);
        if (ok == null) {
            throw new IllegalArgumentException("Capability '" + name + "' is unexpected");
        }
        if (!ok) {
            throw new IllegalArgumentException("Capability '" + name + "' is not supported: " + UNSUPPORTED_REASON.get(name));
        }
    }

    public static boolean known(String name) {
        return ALL.containsKey(name);
    }
}
