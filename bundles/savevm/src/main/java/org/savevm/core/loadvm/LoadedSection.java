package org.savevm.core.loadvm;

import org.savevm.api.ForeignSections;
import org.savevm.api.RegisteredSection;

/**
 * A section seen in a START/FULL header: the local entry it loads into and the stream's version; or, for a device
 * section no handler here loads, the {@link ForeignSections} that reads past it ({@code section} null).
 */
record LoadedSection(RegisteredSection section, int version, ForeignSections foreign) {
    LoadedSection(RegisteredSection section, int version) {
        this(section, version, null);
    }
}
