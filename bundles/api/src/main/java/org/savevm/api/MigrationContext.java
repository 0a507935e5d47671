package org.savevm.api;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * One migration or snapshot as the handlers see it: the settings it runs with, and a typed place where
 * the orchestrator and the live handlers publish the objects that belong to this migration only — the
 * multifd channels ({@link org.savevm.api.machine.MultifdSender}, {@link org.savevm.api.machine.MultifdReceiver}),
 * the ram handler's stats ({@link org.savevm.api.machine.RamMigrationMonitor}) and postcopy controls
 * ({@link org.savevm.api.machine.RamPostcopySource}, {@link org.savevm.api.machine.RamPostcopyDestination}).
 * Made by the orchestrator before the stream starts and dropped with the migration, so nothing has to
 * remember migrations by identity.
 */
public final class MigrationContext {
    private final MigrationSettings settings;
    private final ConcurrentMap<Class<?>, Object> published = new ConcurrentHashMap<>();

    public MigrationContext(MigrationSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** The capabilities and parameters this migration started with. */
    public MigrationSettings settings() {
        return settings;
    }

    /** Publishes {@code value} as this migration's {@code type}; one value per type, the last one wins. */
    public <T> void publish(Class<T> type, T value) {
        published.put(type, type.cast(Objects.requireNonNull(value, "value")));
    }

    /** This migration's {@code type}, if someone published one. */
    public <T> Optional<T> find(Class<T> type) {
        return Optional.ofNullable(type.cast(published.get(type)));
    }

    @Override
    public String toString() {
        return "migration context: " + settings + " published=" + published.keySet();
    }
}
