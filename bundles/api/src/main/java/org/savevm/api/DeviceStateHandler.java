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
     * A fresh, detached state object: a load first decodes into it and copies into {@link #state()}
     * only when the whole section loaded, so a failed section leaves the device untouched.
     */
    T newState();

    /** Copies a successfully loaded state into the device. */
    void commit(T loaded);
}
