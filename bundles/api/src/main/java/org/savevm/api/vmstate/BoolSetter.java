package org.savevm.api.vmstate;

/** Stores a boolean member (there is no ObjBooleanConsumer in java.util.function). */
@FunctionalInterface
public interface BoolSetter<T> {
    void set(T state, boolean value);
}
