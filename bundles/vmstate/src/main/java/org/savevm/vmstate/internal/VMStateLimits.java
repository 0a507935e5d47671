package org.savevm.vmstate.internal;

/**
 * Bounds on what a load may allocate or index from counts and sizes that came out of the stream.
 *
 * @param maxFieldBytes  most bytes one field (count × element size) may carry
 * @param maxElements    most elements one field may have
 */
public record VMStateLimits(long maxFieldBytes, long maxElements) {
    /** 64 MiB per field and 16 Mi elements: far above any device state, far below the heap. */
    public static final VMStateLimits DEFAULT = new VMStateLimits(64L << 20, 16L << 20);
}
