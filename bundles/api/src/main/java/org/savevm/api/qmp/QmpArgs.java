package org.savevm.api.qmp;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A command's arguments checked as QEMU's QAPI input visitor checks them, with its texts: an argument the command
 * does not know is "unexpected", a missing one "missing", a value of the wrong JSON type "Invalid parameter type".
 */
public final class QmpArgs {
    private final Map<String, Object> args;
    /** Where these arguments sit in the command's, as QEMU names it in errors: "" or e.g. "capabilities[0]." */
    private final String path;

    private QmpArgs(Map<String, Object> args, String path) {
        this.args = args;
        this.path = path;
    }

    /** The arguments of a command that takes {@code names} (none: no arguments at all). */
    public static QmpArgs of(Map<String, Object> arguments, String... names) throws QmpError {
        return at("", arguments, names);
    }

    /**
     * A JSON object nested in the arguments at {@code path} (e.g. {@code capabilities[0]}), whose members are
     * named {@code path.member} in errors as QEMU names them.
     */
    public static QmpArgs at(String path, Map<String, Object> arguments, String... names) throws QmpError {
        String prefix = path.isEmpty() ? "" : path + ".";
        Map<String, Object> a = arguments == null ? Map.of() : arguments;
        Set<String> known = Set.of(names);
        for (String k : a.keySet()) {
            if (!known.contains(k)) {
                throw new QmpError("Parameter '" + prefix + k + "' is unexpected");
            }
        }
        return new QmpArgs(a, prefix);
    }

    /** A JSON object nested in the arguments (e.g. one element of a list), named {@code where} in the error. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(Object value, String where) throws QmpError {
        if (!(value instanceof Map<?, ?> m)) {
            throw new QmpError("Invalid parameter type for '" + where + "', expected: object");
        }
        return (Map<String, Object>) m;
    }

    public String string(String name) throws QmpError {
        Object v = required(name);
        if (!(v instanceof String s)) {
            throw type(name, "string");
        }
        return s;
    }

    /** An optional string, or {@code otherwise}. */
    public String string(String name, String otherwise) throws QmpError {
        return args.containsKey(name) ? string(name) : otherwise;
    }

    /** An optional boolean, or {@code otherwise} (null: required). */
    public Boolean bool(String name, Boolean otherwise) throws QmpError {
        if (!args.containsKey(name)) {
            if (otherwise == null) {
                throw new QmpError("Parameter '" + path + name + "' is missing");
            }
            return otherwise;
        }
        if (!(args.get(name) instanceof Boolean b)) {
            throw type(name, "boolean");
        }
        return b;
    }

    public List<?> list(String name) throws QmpError {
        Object v = required(name);
        if (!(v instanceof List<?> l)) {
            throw type(name, "array");
        }
        return l;
    }

    private Object required(String name) throws QmpError {
        if (!args.containsKey(name) || args.get(name) == null) {
            throw new QmpError("Parameter '" + path + name + "' is missing");
        }
        return args.get(name);
    }

    private QmpError type(String name, String expected) {
        return new QmpError("Invalid parameter type for '" + path + name + "', expected: " + expected);
    }
}
