package org.savevm.api.vmstate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state object of a descriptor built from JSON (vmdesc or -dump-vmstate) for a section that has no
 * Java device: field name → value, in field order. Values are {@code Integer} (8 to 32-bit types),
 * {@code Long} (64-bit types and timers), {@code Boolean}, {@code Double}, {@code byte[]} (buffers and
 * types only known by size), nested {@code GenericState} (structs, subsections share the parent), or
 * a {@code List} of those for arrays.
 */
public final class GenericState {
    private final Map<String, Object> values = new LinkedHashMap<>();

    public Object get(String name) {
        return values.get(name);
    }

    public GenericState put(String name, Object value) {
        values.put(name, value);
        return this;
    }

    /** The live map, in field order. */
    public Map<String, Object> values() {
        return values;
    }

    /** A deep copy (lists, nested states and buffers copied). */
    public GenericState copy() {
        GenericState c = new GenericState();
        values.forEach((k, v) -> c.values.put(k, copyValue(v)));
        return c;
    }

    private static Object copyValue(Object v) {
        if (v instanceof GenericState g) {
            return g.copy();
        }
        if (v instanceof byte[] b) {
            return b.clone();
        }
        if (v instanceof long[] l) {
            return l.clone();
        }
        if (v instanceof List<?> list) {
            List<Object> c = new ArrayList<>(list.size());
            for (Object o : list) {
                c.add(copyValue(o));
            }
            return c;
        }
        return v;
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
