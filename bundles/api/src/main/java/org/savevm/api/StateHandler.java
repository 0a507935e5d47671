package org.savevm.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Common root of the two kinds of state handler services. */
@ConsumerType
public interface StateHandler {
    /** How this handler is registered; read once when the registry discovers the service. */
    SectionRegistration registration();
}
