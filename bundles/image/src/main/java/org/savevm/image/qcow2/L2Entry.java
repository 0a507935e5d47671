package org.savevm.image.qcow2;

/**
 * Bits of qcow2's L1 and L2 table entries (docs/interop/qcow2.txt "Cluster mapping"; QEMU's QCOW_OFLAG_*).
 */
public final class L2Entry {
    /** Bit 63: the cluster (or L2 table) has refcount exactly 1 and may be written in place. */
    public static final long COPIED = 1L << 63;
    /** Bit 62: compressed cluster. */
    public static final long COMPRESSED = 1L << 62;
    /** Bit 0 (version 3): the cluster reads as zeros. */
    public static final long ZERO = 1L;
    /** Bits 9-55: host offset of a standard cluster or an L2 table. */
    public static final long OFFSET_MASK = 0x00fffffffffffe00L;

    /** How a guest cluster is stored. */
    public enum Type {
        /** Not allocated here: read from the backing file, or zeros. */
        UNALLOCATED,
        /** Reads as zeros; may still own a preallocated host cluster ({@link L2Entry#OFFSET_MASK}). */
        ZERO,
        NORMAL,
        COMPRESSED
    }

    private L2Entry() {
    }

    public static Type type(long entry, int version) {
        if ((entry & COMPRESSED) != 0) {
            return Type.COMPRESSED;
        }
        if (version >= 3 && (entry & ZERO) != 0) {
            return Type.ZERO;
        }
        return (entry & OFFSET_MASK) == 0 ? Type.UNALLOCATED : Type.NORMAL;
    }

    public static long offset(long entry) {
        return entry & OFFSET_MASK;
    }
}
