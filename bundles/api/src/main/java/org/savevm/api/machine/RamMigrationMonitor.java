package org.savevm.api.machine;

import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Read side of the "ram" handler for the orchestrator (query-migrate, auto-converge). A migration is
 * known by the {@code MigrationSettings} instance it was started with.
 */
@ProviderType
public interface RamMigrationMonitor {
    /** Stats of the save session opened with exactly this settings instance, while it is open or last closed. */
    Optional<RamMigrationStats> saveStats(org.savevm.api.MigrationSettings settings);

    /** Stats of the most recently opened save session. */
    Optional<RamMigrationStats> latestSaveStats();
}
