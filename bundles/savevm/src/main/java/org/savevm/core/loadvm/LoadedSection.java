package org.savevm.core.loadvm;

import org.savevm.api.RegisteredSection;

/** A section seen in a START/FULL header: the local entry, the stream's section id and version. */
record LoadedSection(RegisteredSection section, int streamSectionId, int version, int streamInstanceId,
        String streamIdstr) {

    /** "section 'X' instance N": the stream's names, which the user can find in the stream. */
    String describe() {
        return "section '" + streamIdstr + "' instance " + Integer.toUnsignedString(streamInstanceId);
    }
}
