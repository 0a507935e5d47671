package org.savevm.api.vmstate;

import java.io.IOException;
import java.util.Collection;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Descriptors from and to JSON, provided as a service by the vmstate bundle: decode sections nobody
 * registered a device for (vmdesc entries), and write QEMU's {@code -dump-vmstate} form.
 */
@ProviderType
public interface VMStateJson {
    /**
     * A descriptor over {@link GenericState} from one vmdesc {@code devices} entry (or a nested object
     * with {@code vmsd_name}, {@code version}, {@code fields}, {@code subsections}). Field types the
     * engine knows are decoded as values, the rest as raw buffers of the recorded size.
     */
    VMStateDescription<GenericState> fromVmdesc(String json) throws IOException;

    /**
     * A descriptor over {@link GenericState} from one device of a {@code -dump-vmstate} file (the object
     * with {@code Name}, {@code version_id}, {@code Description}). The dump has no types, so every
     * field becomes a buffer of its recorded size; structs nest.
     */
    VMStateDescription<GenericState> fromDump(String json) throws IOException;

    /** QEMU 7.2's {@code -dump-vmstate} text for {@code descriptions}, keyed by their device types. */
    String dumpVmstate(String machineName, Collection<VMStateDescription<?>> descriptions);
}
