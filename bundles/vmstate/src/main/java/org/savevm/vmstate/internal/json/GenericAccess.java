package org.savevm.vmstate.internal.json;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.savevm.api.vmstate.ElementAccess;
import org.savevm.api.vmstate.GenericState;

/**
 * Element access into a {@link GenericState}: the value under {@code key} in the state the
 * {@code scope} picks (the state itself, or a subsection's child state), a list for arrays; missing
 * nested structs are created on first use so that a load can fill them.
 */
final class GenericAccess implements ElementAccess<GenericState> {
    private final String key;
    private final Function<GenericState, GenericState> scope;
    private final boolean array;
    private final boolean struct;

    GenericAccess(String key, Function<GenericState, GenericState> scope, boolean array, boolean struct) {
        this.key = key;
        this.scope = scope;
        this.array = array;
        this.struct = struct;
    }

    @Override
    public Object get(GenericState state, int index) {
        GenericState c = scope.apply(state);
        if (!array) {
            Object v = c.get(key);
            if (v == null && struct) {
                v = new GenericState();
                c.put(key, v);
            }
            return v;
        }
        List<Object> list = list(c, index + 1);
        Object v = list.get(index);
        if (v == null && struct) {
            v = new GenericState();
            list.set(index, v);
        }
        return v;
    }

    @Override
    public void set(GenericState state, int index, Object value) {
        GenericState c = scope.apply(state);
        if (!array) {
            c.put(key, value);
        } else {
            list(c, index + 1).set(index, value);
        }
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(GenericState c, int atLeast) {
        Object v = c.get(key);
        List<Object> list;
        if (v instanceof List<?> l) {
            list = (List<Object>) l;
        } else {
            list = new ArrayList<>();
            c.put(key, list);
        }
        while (list.size() < atLeast) {
            list.add(null);
        }
        return list;
    }

    /** The child state of subsection {@code name}, created when absent. */
    static GenericState child(GenericState parent, String name) {
        Object v = parent.get(name);
        if (v instanceof GenericState g) {
            return g;
        }
        GenericState g = new GenericState();
        parent.put(name, g);
        return g;
    }
}
