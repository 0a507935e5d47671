package org.savevm.api.migration;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code --capability NAME} (or {@code -c}) and {@code --parameter NAME=VALUE} (or {@code -p}) options
 * of every command that starts a migration, in the order given.
 */
public final class MigrationOptions {
    private final List<String> capabilities = new ArrayList<>();
    private final Map<String, String> parameters = new LinkedHashMap<>();

    public List<String> capabilities() {
        return capabilities;
    }

    public Map<String, String> parameters() {
        return parameters;
    }

    /** Consumes the option at {@code args[i]} if it is one of ours; returns the next index, or -1. */
    public int take(List<String> args, int i) {
        String a = args.get(i);
        if (a.equals("--capability") || a.equals("-c")) {
            capabilities.add(value(args, i));
            return i + 2;
        }
        if (a.startsWith("--capability=")) {
            capabilities.add(a.substring("--capability=".length()));
            return i + 1;
        }
        if (a.equals("--parameter") || a.equals("-p")) {
            putParameter(value(args, i));
            return i + 2;
        }
        if (a.startsWith("--parameter=")) {
            putParameter(a.substring("--parameter=".length()));
            return i + 1;
        }
        return -1;
    }

    public static String value(List<String> args, int i) {
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(args.get(i) + " needs a value");
        }
        return args.get(i + 1);
    }

    private void putParameter(String nv) {
        int eq = nv.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("--parameter expects NAME=VALUE: " + nv);
        }
        parameters.put(nv.substring(0, eq), nv.substring(eq + 1));
    }

    /** Applies everything to {@code migration}; throws with QEMU's message on the first refusal. */
    public void applyTo(MigrationService migration) {
        for (String c : capabilities) {
            migration.setCapability(c, true);
        }
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            migration.setParameter(e.getKey(), e.getValue());
        }
    }

    /** Back to command-line form, for a child process. */
    public List<String> toArgs() {
        List<String> out = new ArrayList<>();
        capabilities.forEach(c -> {
            out.add("--capability");
            out.add(c);
        });
        parameters.forEach((k, v) -> {
            out.add("--parameter");
            out.add(k + "=" + v);
        });
        return out;
    }
}
