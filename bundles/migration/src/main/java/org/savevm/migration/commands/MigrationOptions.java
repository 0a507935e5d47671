package org.savevm.migration.commands;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.savevm.migration.params.MigrationConfigState;

/** {@code --capability NAME} and {@code --parameter NAME=VALUE} options shared by migrate, incoming and the demo. */
final class MigrationOptions {
    final List<String> capabilities = new ArrayList<>();
    final Map<String, String> parameters = new LinkedHashMap<>();

    /** Consumes the option at {@code args[i]} if it is one of ours; returns the next index, or -1. */
    int take(List<String> args, int i) {
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

    static String value(List<String> args, int i) {
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

    /** Applies everything to {@code config}; throws with QEMU's message on the first refusal. */
    void applyTo(MigrationConfigState config) {
        for (String c : capabilities) {
            config.setCapability(c, true);
        }
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            config.setParameter(e.getKey(), e.getValue());
        }
    }

    /** Back to command-line form, for a child process. */
    List<String> toArgs() {
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
