package org.savevm.migration.params;

import java.util.Map;

import org.savevm.api.settings.MigrationParameters;
import org.savevm.api.settings.ParameterSpec;

/**
 * QEMU's migrate_params_check: the whole set of parameters as it would be after a change is checked,
 * so that a refused change leaves the current values untouched.
 */
public final class ParameterCheck {
    private ParameterCheck() {
    }

    /** Throws IllegalArgumentException with QEMU's message for the first value out of range. */
    public static void check(Map<String, Long> values) {
        for (Map.Entry<String, Long> e : values.entrySet()) {
            ParameterSpec spec = MigrationParameters.spec(e.getKey());
            long v = e.getValue();
            if (!spec.inRange(v)) {
                throw new IllegalArgumentException(spec.refusal());
            }
            if (spec.name().equals("xbzrle-cache-size") && Long.bitCount(v) != 1) {
                throw new IllegalArgumentException(spec.refusal());
            }
        }
        Long initial = values.get("cpu-throttle-initial");
        Long max = values.get("max-cpu-throttle");
        if (initial != null && max != null && max < initial) {
            throw new IllegalArgumentException(MigrationParameters.spec("max-cpu-throttle").refusal());
        }
    }
}
