package org.savevm.api.vmstate;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * Reads and writes a state object through its descriptor: QEMU's vmstate_save_state /
 * vmstate_load_state. Provided as a service by the vmstate bundle.
 */
@ProviderType
public interface VMStateEngine {
    /**
     * Writes the fields of {@code state} and its needed subsections. When {@code vmdesc} is not null,
     * appends this device's vmdesc JSON members ({@code "vmsd_name":...,"version":...,"fields":[...]}
     * and {@code "subsections"} when any) in QEMU 7.2's compact form, for the caller to wrap: no
     * leading separator and no braces. Hooks run in QEMU's order (pre_save, fields, subsections whose
     * {@code needed} holds, post_save). Whether a top-level section is sent at all is the caller's
     * check: {@link VMStateDescription#isNeeded}.
     */
    <T> void save(MigrationOutput out, VMStateDescription<T> description, T state, StringBuilder vmdesc)
            throws IOException;

    /**
     * Reads a section body written at {@code version} into {@code state}. Errors are
     * {@link VMStateException}s naming the descriptor, the field and the byte offset; on error
     * {@code state} may be partly written (load into a copy, see DeviceStateHandler#copyOfState).
     */
    <T> void load(MigrationInput in, VMStateDescription<T> description, T state, int version) throws IOException;
}
