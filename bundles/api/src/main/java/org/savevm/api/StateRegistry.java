package org.savevm.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** The registry service: discovers every {@link StateHandler} service and gives out frozen views. */
@ProviderType
public interface StateRegistry {
    /** A consistent, ordered snapshot for one save or load. */
    RegistryView freeze();

    /** The current sections in save order (for listing). */
    List<RegisteredSection> sections();

    /** Registrations refused (duplicate idstr and instance, idstr too long, ...), each with its reason. */
    List<String> refused();
}
