package org.savevm.api.machine;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The "ram" handler's stats of one outgoing migration (query-migrate's ram.*, auto-converge's dirty
 * rates), published by its save session in the {@link org.savevm.api.MigrationContext}; readable while
 * the session is open and after it closed.
 */
@ProviderType
@FunctionalInterface
public interface RamMigrationMonitor {
    /** The counters now. */
    RamMigrationStats stats();
}
