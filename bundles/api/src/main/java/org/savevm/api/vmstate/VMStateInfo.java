package org.savevm.api.vmstate;

import java.io.IOException;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * QEMU's VMStateInfo: how one element of a field is encoded. {@code V} is the Java type of the element
 * as the field's {@link ElementAccess} hands it over ({@code Integer} for 8 to 32-bit integers,
 * {@code Long} for 64-bit ones, {@code byte[]} for buffers, {@code GuestTimer} for timers ...).
 * The standard infos are in {@link VMStateInfos}.
 */
public interface VMStateInfo<V> {
    /** The name the vmdesc JSON shows as the field's {@code type}, e.g. {@code uint16} or {@code int32 equal}. */
    String name();

    /** Writes one element of {@code size} bytes (the field's element size). */
    void put(MigrationOutput out, V value, int size) throws IOException;

    /**
     * Reads one element. {@code current} is the element's value before the load (the buffer to read
     * into, the value an {@code _equal} type must match, the timer to arm); the result is stored back.
     * A value the type refuses is reported by throwing; the engine adds descriptor, field and offset.
     */
    V get(MigrationInput in, V current, int size) throws IOException;

    /** False for types that only check the stream and never write the element back ({@code _equal}). */
    default boolean storesValue() {
        return true;
    }
}
