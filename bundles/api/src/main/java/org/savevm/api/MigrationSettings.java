package org.savevm.api;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The capabilities and parameters in force for one migration or snapshot, with QEMU's names
 * ({@code xbzrle}, {@code compress}, {@code xbzrle-cache-size}, ...). Immutable: a migration sees the
 * values it started with. Per-migration objects live in the {@link MigrationContext}, not here.
 */
public final class MigrationSettings {
    public static final MigrationSettings DEFAULTS = new MigrationSettings(Set.of(), Map.of());

    private final Set<String> capabilities;
    private final Map<String, Long> parameters;

    public MigrationSettings(Set<String> capabilities, Map<String, Long> parameters) {
        this.capabilities = Collections.unmodifiableSet(new TreeSet<>(capabilities));
        this.parameters = Collections.unmodifiableMap(new TreeMap<>(parameters));
    }

    public boolean capability(String name) {
        return capabilities.contains(name);
    }

    public long parameter(String name, long defaultValue) {
        Long v = parameters.get(name);
        return v == null ? defaultValue : v;
    }

    public Set<String> capabilities() {
        return capabilities;
    }

    public Map<String, Long> parameters() {
        return parameters;
    }

    public MigrationSettings withCapability(String name, boolean on) {
        Set<String> c = new TreeSet<>(capabilities);
        if (on) {
            c.add(name);
        } else {
            c.remove(name);
        }
        return new MigrationSettings(c, parameters);
    }

    public MigrationSettings withParameter(String name, long value) {
        Map<String, Long> p = new TreeMap<>(parameters);
        p.put(name, value);
        return new MigrationSettings(capabilities, p);
    }

    @Override
    public String toString() {
        return "capabilities=" + capabilities + " parameters=" + parameters;
    }
}
