package org.savevm.migration.objects;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One {@code -object} / {@code object_add} argument in QEMU's option syntax: {@code TYPE,key=value,...}, where a
 * comma inside a value is written twice ({@code ,,}) and dotted keys ({@code rules.0.match}) name list members. The
 * first element may also be given as {@code qom-type=TYPE}. Keys are kept in order; each key at most once.
 */
public final class ObjectOptions {
    private final String type;
    private final Map<String, String> values;
    private final Set<String> used = new TreeSet<>();

    private ObjectOptions(String type, Map<String, String> values) {
        this.type = type;
        this.values = values;
    }

    /** Parses {@code text}; IllegalArgumentException naming the element and its position when it is malformed. */
    public static ObjectOptions parse(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        String type = null;
        int i = 0;
        int n = text.length();
        boolean first = true;
        while (i <= n) {
            int start = i;
            StringBuilder element = new StringBuilder();
            while (i < n) {
                char c = text.charAt(i);
                if (c == ',') {
                    if (i + 1 < n && text.charAt(i + 1) == ',') {
                        element.append(',');
                        i += 2;
                        continue;
                    }
                    break;
                }
                element.append(c);
                i++;
            }
            i++; // past the separating comma (or the end)
            String e = element.toString();
            int eq = e.indexOf('=');
            if (first && eq < 0) {
                type = e;
            } else if (eq <= 0) {
                throw new IllegalArgumentException("object option at character " + start + " must be KEY=VALUE: '" + e + "'");
            } else {
                String key = e.substring(0, eq);
                if (values.put(key, e.substring(eq + 1)) != null) {
                    throw new IllegalArgumentException("object option '" + key + "' given twice");
                }
            }
            first = false;
        }
        if (type == null) {
            type = values.remove("qom-type");
        }
        if (type == null || type.isEmpty()) {
            throw new IllegalArgumentException("Parameter 'qom-type' is missing");
        }
        if (!values.containsKey("id") || values.get("id").isEmpty()) {
            throw new IllegalArgumentException("Parameter 'id' is missing");
        }
        return new ObjectOptions(type, Collections.unmodifiableMap(values));
    }

    public String type() {
        return type;
    }

    public String id() {
        return values.get("id");
    }

    /** The value of {@code key}, or {@code null}; marks it used. */
    public String get(String key) {
        used.add(key);
        return values.get(key);
    }

    /** The value of {@code key}; IllegalArgumentException with QEMU's wording when it is absent. */
    public String require(String key) {
        String v = get(key);
        if (v == null) {
            throw new IllegalArgumentException("Parameter '" + key + "' is missing");
        }
        return v;
    }

    /** QEMU's boolean property values: on/off, yes/no, true/false. */
    public boolean bool(String key, boolean def) {
        String v = get(key);
        if (v == null) {
            return def;
        }
        switch (v) {
            case "on", "yes", "true", "y" -> {
                return true;
            }
            case "off", "no", "false", "n" -> {
                return false;
            }
            default -> throw new IllegalArgumentException("Parameter '" + key + "' expects 'on' or 'off'");
        }
    }

    /** One of {@code choices}, or {@code def} when absent. */
    public String choice(String key, String def, String... choices) {
        String v = get(key);
        if (v == null) {
            return def;
        }
        for (String c : choices) {
            if (c.equals(v)) {
                return v;
            }
        }
        throw new IllegalArgumentException("Parameter '" + key + "' does not accept value '" + v + "'");
    }

    /** Every key, in the order given. */
    public Set<String> keys() {
        return values.keySet();
    }

    /** Refuses keys that the object type never read (QEMU: "Property 'X' not found"). */
    public void checkAllUsed() {
        for (String k : values.keySet()) {
            if (!k.equals("id") && !used.contains(k)) {
                throw new IllegalArgumentException("Property '" + type + "." + k + "' not found");
            }
        }
    }
}
