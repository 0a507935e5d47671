package org.savevm.core.loadvm;

/**
 * Bounds a loader applies to lengths read from the stream.
 *
 * @param maxVmdescLength  longest vmdesc trailer accepted (it is skipped, never buffered)
 * @param maxPackagedLength longest PACKAGED blob accepted (parsed in place, never buffered)
 */
public record LoadLimits(long maxVmdescLength, long maxPackagedLength) {
    /** 64 MiB of vmdesc is far beyond any real machine; PACKAGED up to QEMU's UINT32_MAX. */
    public static final LoadLimits DEFAULTS = new LoadLimits(64L << 20, 0xffffffffL);
}
