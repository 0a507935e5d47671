package org.savevm.api;

/**
 * QEMU 7.2's MigrationPriority: handlers with a higher priority are saved (and loaded) first. The
 * numeric values are QEMU's (MIG_PRI_DEFAULT = 0 ... MIG_PRI_GICV3 = 5).
 */
public enum MigrationPriority {
    DEFAULT(0), IOMMU(1), PCI_BUS(2), VIRTIO_MEM(3), GICV3_ITS(4), GICV3(5);

    private final int value;

    MigrationPriority(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    /** The priority with QEMU's numeric value; an unknown value is refused. */
    public static MigrationPriority ofValue(int value) {
        for (MigrationPriority p : values()) {
            if (p.value == value) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown migration priority " + value + " (valid: 0..5)");
    }
}
