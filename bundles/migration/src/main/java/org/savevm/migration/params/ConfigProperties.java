package org.savevm.migration.params;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.savevm.api.settings.MigrationParameters;
import org.savevm.api.settings.ParameterSpec;

/** Turns the properties of the ConfigAdmin PID {@code org.savevm.migration} into parameter and capability changes. */
public final class ConfigProperties {
    private ConfigProperties() {
    }

    /** Every known parameter present in {@code props}, parsed (strings as HMP would, numbers and booleans as is). */
    public static Map<String, Long> parameters(Map<String, ?> props) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (ParameterSpec spec : MigrationParameters.all().values()) {
            Object v = props.get(spec.name());
            if (v == null) {
                continue;
            }
            long value;
            if (v instanceof Boolean b) {
                value = b ? 1 : 0;
            } else if (v instanceof Number n) {
                value = n.longValue();
            } else {
                String s = v.toString();
                // Configuration files give plain byte counts: only HMP reads bare sizes as MiB.
                value = spec.kind() == ParameterSpec.Kind.SIZE ? ValueParser.parseSize(s, 0) : ValueParser.parse(spec, s);
            }
            out.put(spec.name(), value);
        }
        return out;
    }

    /** The string parameters (tls-creds, tls-hostname, tls-authz) present in {@code props}. */
    public static Map<String, String> textParameters(Map<String, ?> props) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : MigrationParameters.TEXT) {
            Object v = props.get(name);
            if (v != null) {
                out.put(name, v.toString());
            }
        }
        return out;
    }

    /** The {@code capabilities} property (String, String[] or collection; commas split), if present. */
    public static Optional<Set<String>> capabilities(Map<String, ?> props) {
        Object v = props.get("capabilities");
        if (v == null) {
            return Optional.empty();
        }
        Set<String> out = new LinkedHashSet<>();
        if (v instanceof String[] a) {
            for (String s : a) {
                split(s, out);
            }
        } else if (v instanceof Collection<?> c) {
            c.forEach(x -> split(String.valueOf(x), out));
        } else {
            split(v.toString(), out);
        }
        return Optional.of(out);
    }

    private static void split(String s, Set<String> out) {
        for (String p : s.split(",")) {
            if (!p.isBlank()) {
                out.add(p.trim());
            }
        }
    }
}
