package org.savevm.core.loadvm;

/**
 * Bounds a loader applies to lengths read from the stream, and what it requires of the stream's end.
 *
 * @param maxVmdescLength   longest vmdesc trailer accepted (it is skipped, never buffered)
 * @param maxPackagedLength longest PACKAGED blob accepted (parsed in place, never buffered)
 * @param trailerRequired   a precopy stream must end with a complete vmdesc trailer after its EOF marker:
 *                          QEMU 7.2 writes one after every precopy stream (migration and snapshot alike,
 *                          unless the machine sets suppress-vmdesc) and so does savevm, so a stream that ends
 *                          without one was cut short, possibly right after an EOF byte (issue 13)
 */
public record LoadLimits(long maxVmdescLength, long maxPackagedLength, boolean trailerRequired) {
    /** 64 MiB of vmdesc is far beyond any real machine; PACKAGED up to QEMU's UINT32_MAX; the trailer required. */
    public static final LoadLimits DEFAULTS = new LoadLimits(64L << 20, 0xffffffffL, true);

    /** These limits for streams of machines with suppress-vmdesc=on, which end at their EOF marker. */
    public LoadLimits withoutRequiredTrailer() {
        return new LoadLimits(maxVmdescLength, maxPackagedLength, false);
    }
}
