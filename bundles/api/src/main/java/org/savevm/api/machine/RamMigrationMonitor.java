package org.savevm.api.machine;

import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The "ram" handler's face to the orchestrator: stats (query-migrate, auto-converge) and postcopy
 * controls. A migration is known by the {@code MigrationSettings} instance its sessions were opened with.
 */
@ProviderType
public interface RamMigrationMonitor {
    /** Stats of the save session opened with exactly this settings instance, while it is open or last closed. */
    Optional<RamMigrationStats> saveStats(org.savevm.api.MigrationSettings settings);

    /** Stats of the most recently opened save session. */
    Optional<RamMigrationStats> latestSaveStats();

    /** Postcopy controls of the save session opened with this settings instance (postcopy-ram on), while open. */
    Optional<RamPostcopySource> postcopySource(org.savevm.api.MigrationSettings settings);

    /** Postcopy controls of the load session opened with this settings instance, while open. */
    Optional<RamPostcopyDestination> postcopyDestination(org.savevm.api.MigrationSettings settings);
}
