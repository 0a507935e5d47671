package org.savevm.framing.walk;

import java.util.Set;

/**
 * What a {@link StreamWalker} expects of a stream.
 *
 * @param footers            whether sections end in a footer
 * @param configuration      whether a configuration section follows the header
 * @param knownCapabilities  capability names the configuration section may carry, or null for any
 * @param strictTrailer      true: after EOF there must be nothing or a vmdesc trailer reaching to the end
 *                           (analysis); false: QEMU's loader, which only logs a missing, foreign or cut trailer
 * @param maxVmdescLength    longest vmdesc trailer accepted (it is skipped, never buffered)
 * @param maxPackagedLength  longest PACKAGED blob accepted (walked in place, never buffered)
 */
public record WalkOptions(Footers footers, Configuration configuration, Set<String> knownCapabilities,
        boolean strictTrailer, long maxVmdescLength, long maxPackagedLength) {

    /** Section footers: as the send-section-footer setting says, or detected after the first section body. */
    public enum Footers {
        PRESENT, ABSENT, DETECT
    }

    /** The configuration section: required, absent (a 0x07 is then an unknown section type), or optional. */
    public enum Configuration {
        REQUIRED, ABSENT, OPTIONAL
    }

    /** How deep PACKAGED blobs may nest inside each other. */
    public static final int MAX_PACKAGE_DEPTH = 8;
}
