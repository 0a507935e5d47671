package org.savevm.core.loadvm;

import org.savevm.api.RegisteredSection;

/** A section seen in a START/FULL header: the local entry it loads into and the stream's version. */
record LoadedSection(RegisteredSection section, int version) {
}
