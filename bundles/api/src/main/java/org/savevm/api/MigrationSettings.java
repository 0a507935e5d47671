package org.savevm.api;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The capabilities and parameters in force for one migration or snapshot, with QEMU's names
 * ({@code xbzrle}, {@code compress}, {@code xbzrle-cache-size}, ...). Immutable: a migration sees the
 * values it started with.
 */
public final class MigrationSettings {
    public static final MigrationSettings DEFAULTS = new MigrationSettings(Set.of(), Map.of());

    private final Set<String> capabilities;
    private final Map<String, Long> parameters;
    private final Map<Class<?>, Object> attachments;

    public MigrationSettings(Set<String> capabilities, Map<String, Long> parameters) {
        this(capabilities, parameters, Map.of());
    }

    private MigrationSettings(Set<String> capabilities, Map<String, Long> parameters,
            Map<Class<?>, Object> attachments) {
        this.capabilities = Collections.unmodifiableSet(new TreeSet<>(capabilities));
        this.parameters = Collections.unmodifiableMap(new TreeMap<>(parameters));
        this.attachments = Map.copyOf(attachments);
    }

    /**
     * A per-migration object the orchestrator hands to the handlers along with the settings, such as the
     * multifd channels of this migration ({@link org.savevm.api.machine.MultifdSender}).
     */
    public <T> Optional<T> attachment(Class<T> type) {
        return Optional.ofNullable(type.cast(attachments.get(type)));
    }

    /** These settings with {@code value} attached under {@code type}. */
    public <T> MigrationSettings withAttachment(Class<T> type, T value) {
        Map<Class<?>, Object> a = new HashMap<>(attachments);
        a.put(type, type.cast(Objects.requireNonNull(value)));
        return new MigrationSettings(capabilities, parameters, a);
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
        return new MigrationSettings(c, parameters, attachments);
    }

    public MigrationSettings withParameter(String name, long value) {
        Map<String, Long> p = new TreeMap<>(parameters);
        p.put(name, value);
        return new MigrationSettings(capabilities, p, attachments);
    }

    @Override
    public String toString() {
        return "capabilities=" + capabilities + " parameters=" + parameters;
    }
}
