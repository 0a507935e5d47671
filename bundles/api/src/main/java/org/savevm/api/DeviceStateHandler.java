package org.savevm.api;

import org.osgi.annotation.versioning.ConsumerType;
import org.savevm.api.vmstate.VMStateDescription;

/**
 * A device whose state is described by a VMState descriptor: the savevm core writes it as one FULL
 * section through the vmstate engine. The registration's version must equal the descriptor's.
 *
 * @param <T> the state object the descriptor reads and writes
 */
@ConsumerType
public interface DeviceStateHandler<T> extends StateHandler {
    VMStateDescription<T> description();

    /** The live state object, read on save and written on load. */
    T state();

    /**
     * A detached copy of the current state: a load decodes into it (fields the stream does not carry
     * keep their current values, as in QEMU) and is copied into the device by {@link #commit} only when
     * the whole section loaded, so a failed section leaves the device untouched.
     */
    T copyOfState();

    /** Copies a successfully loaded state into the device. */
    void commit(T loaded);
}
