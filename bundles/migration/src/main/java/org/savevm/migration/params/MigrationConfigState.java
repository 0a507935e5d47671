package org.savevm.migration.params;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.savevm.api.MigrationSettings;
import org.savevm.api.settings.MigrationParameters;

/**
 * The capabilities and parameters currently set (QEMU's MigrationState.parameters and .capabilities).
 * A change is checked as a whole first, so a refused change leaves everything as it was: values against QEMU's
 * ranges, then names against what the installed bundles implement ({@link FeatureTable}). Thread-safe.
 */
public final class MigrationConfigState {
    private final FeatureTable features;
    private final Map<String, Long> parameters = new LinkedHashMap<>(MigrationParameters.defaults());
    private final Set<String> capabilities = new TreeSet<>();
    /** The string parameters (tls-creds, tls-hostname, tls-authz), "" when unset as in QEMU. */
    private final Map<String, String> text = new LinkedHashMap<>();

    /** Settings checked against {@code features}, which the owner keeps current as bundles come and go. */
    public MigrationConfigState(FeatureTable features) {
        this.features = features;
        MigrationParameters.TEXT.forEach(n -> text.put(n, ""));
    }

    /** Settings with the orchestrator's own features only. */
    public MigrationConfigState() {
        this(new FeatureTable());
    }

    public FeatureTable features() {
        return features;
    }

    public synchronized void setParameter(String name, long value) {
        setParameters(Map.of(name, value));
    }

    /** Applies every value or none (migrate_params_test_apply, migrate_params_check, migrate_params_apply). */
    public synchronized void setParameters(Map<String, Long> changes) {
        Map<String, Long> trial = new LinkedHashMap<>(parameters);
        for (Map.Entry<String, Long> e : changes.entrySet()) {
            MigrationParameters.spec(e.getKey());
            trial.put(e.getKey(), e.getValue());
        }
        ParameterCheck.check(trial);
        // After the range check, so that a value out of range gets QEMU's own message first.
        changes.keySet().forEach(features::checkParameter);
        parameters.putAll(trial);
    }

    /**
     * Parses {@code value} as HMP does for this parameter, then sets it. A string parameter is taken as it is: QEMU
     * checks that tls-creds and tls-authz name fitting objects only when a migration starts.
     */
    public synchronized void setParameter(String name, String value) {
        if (MigrationParameters.isText(name)) {
            if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw new IllegalArgumentException("Parameter '" + name.replace('-', '_') + "' expects a string without control characters");
            }
            text.put(name, value);
            return;
        }
        setParameter(name, ValueParser.parse(MigrationParameters.spec(name), value));
    }

    /** A string parameter's value, "" when unset. */
    public synchronized String text(String name) {
        if (!MigrationParameters.isText(name)) {
            throw new IllegalArgumentException("Parameter '" + name + "' is unexpected");
        }
        return text.get(name);
    }

    /** Every string parameter, in QEMU's order. */
    public synchronized Map<String, String> textParameters() {
        return new LinkedHashMap<>(text);
    }

    public synchronized void setCapability(String name, boolean on) {
        if (on) {
            features.checkCapability(name);
            capabilities.add(name);
        } else {
            FeatureTable.checkKnownCapability(name);
            capabilities.remove(name);
        }
    }

    /** Replaces the capability set (all checked first). */
    public synchronized void setCapabilities(Set<String> names) {
        names.forEach(features::checkCapability);
        capabilities.clear();
        capabilities.addAll(names);
    }

    /**
     * Switches off every capability that is on but no longer implemented (its bundle went away), so that the next
     * migration does not start with it; returns those switched off.
     */
    public synchronized Set<String> dropUnavailable() {
        Set<String> gone = new TreeSet<>();
        for (String c : capabilities) {
            if (!features.capabilityAvailable(c)) {
                gone.add(c);
            }
        }
        capabilities.removeAll(gone);
        return gone;
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
