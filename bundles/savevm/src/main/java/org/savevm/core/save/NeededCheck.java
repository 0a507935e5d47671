package org.savevm.core.save;

import org.savevm.api.vmstate.VMStateDescription;

/** A top-level vmsd whose needed() is false is not sent at all (no header either): vmstate_save_needed. */
final class NeededCheck {
    private NeededCheck() {
    }

    static <T> boolean topLevelNeeded(VMStateDescription<T> description, T state) {
        return description.isNeeded(state);
    }
}
