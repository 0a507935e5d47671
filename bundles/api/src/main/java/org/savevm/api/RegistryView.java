package org.savevm.api;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A frozen copy of the registry for one save or load: handlers that arrive later join the next one;
 * a handler that leaves while the view is in use makes {@link #checkPresent} fail with its name.
 */
@ProviderType
public interface RegistryView {
    /** Every section in save order: priority high to low, then by order key. */
    List<RegisteredSection> sections();

    /** QEMU's find_se: exact idstr with instance or alias id, then the compat idstr. */
    Optional<RegisteredSection> find(String idstr, int instanceId);

    /** Reasons this view cannot be migrated ("State blocked by non-migratable device 'X'"). */
    List<String> blockers();

    /** Throws if the section's handler has been unregistered since the view was taken. */
    void checkPresent(RegisteredSection section) throws IOException;
}
