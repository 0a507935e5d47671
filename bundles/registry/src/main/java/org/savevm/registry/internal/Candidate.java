package org.savevm.registry.internal;

import org.savevm.api.SectionRegistration;
import org.savevm.api.StateHandler;

/**
 * A handler the registry accepted, before ids are resolved.
 *
 * @param sectionId section id given once on arrival and kept for the handler's lifetime (QEMU's global
 *                  section counter)
 * @param arrival   arrival sequence, only a last-resort tie-break (and then logged)
 */
record Candidate(StateHandler handler, SectionRegistration registration, String bundle, int sectionId, long arrival) {
}
