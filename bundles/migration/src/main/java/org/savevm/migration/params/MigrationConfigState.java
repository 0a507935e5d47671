package org.savevm.migration.params;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.savevm.api.MigrationSettings;

/**
 * The capabilities and parameters currently set (QEMU's MigrationState.parameters and .capabilities).
 * A change is checked as a whole first, so a refused change leaves everything as it was. Thread-safe.
 */
public final class MigrationConfigState {
    private final Map<String, Long> parameters = new LinkedHashMap<>(ParameterTable.defaults());
    private final Set<String> capabilities = new TreeSet<>();

    public synchronized void setParameter(String name, long value) {
        setParameters(Map.of(name, value));
    }

    /** Applies every value or none (migrate_params_test_apply, migrate_params_check, migrate_params_apply). */
    public synchronized void setParameters(Map<String, Long> changes) {
        Map<String, Long> trial = new LinkedHashMap<>(parameters);
        for (Map.Entry<String, Long> e : changes.entrySet()) {
            ParameterTable.spec(e.getKey());
            trial.put(e.getKey(), e.getValue());
        }
        ParameterCheck.check(trial);
        parameters.putAll(trial);
    }

    /** Parses {@code text} as HMP does for this parameter, then sets it. */
    public synchronized void setParameter(String name, String text) {
        setParameter(name, ValueParser.parse(ParameterTable.spec(name), text));
    }

    public synchronized void setCapability(String name, boolean on) {
        if (on) {
            CapabilityTable.checkEnable(name);
            capabilities.add(name);
        } else {
            if (!CapabilityTable.known(name)) {
                throw new IllegalArgumentException("Capability '" + name + "' is unexpected");
            }
            capabilities.remove(name);
        }
    }

    /** Replaces the capability set (all checked first). */
    public synchronized void setCapabilities(Set<String> names) {
        names.forEach(CapabilityTable::checkEnable);
        capabilities.clear();
        capabilities.addAll(names);
    }

    public synchronized long parameter(String name) {
        Long v = parameters.get(name);
        if (v == null) {
            throw new IllegalArgumentException("Parameter '" + name + "' is unexpected");
        }
        return v;
    }

    public synchronized Map<String, Long> parameters() {
        return new LinkedHashMap<>(parameters);
    }

    public synchronized Set<String> capabilities() {
        return new TreeSet<>(capabilities);
    }

    /** The immutable settings one migration starts with. */
    public synchronized MigrationSettings snapshot() {
        return new MigrationSettings(capabilities, parameters);
    }
}
