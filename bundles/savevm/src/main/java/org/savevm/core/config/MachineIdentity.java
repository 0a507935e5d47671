package org.savevm.core.config;

import java.util.Objects;
import java.util.UUID;

/**
 * What the configuration section describes about the local machine: machine type name, target page
 * bits (12 on x86, where the minimum is also 12, so the subsection is never sent) and the optional
 * UUID that {@code validate-uuid} compares.
 */
public record MachineIdentity(String machineType, int targetPageBits, int targetPageBitsMin, UUID uuid) {
    public static final String DEFAULT_MACHINE_TYPE = "pc-i440fx-7.2";
    public static final MachineIdentity DEFAULT = new MachineIdentity(DEFAULT_MACHINE_TYPE, 12, 12, null);

    public MachineIdentity {
        Objects.requireNonNull(machineType, "machineType");
    }

    public MachineIdentity withMachineType(String type) {
        return new MachineIdentity(type, targetPageBits, targetPageBitsMin, uuid);
    }

    public MachineIdentity withUuid(UUID id) {
        return new MachineIdentity(machineType, targetPageBits, targetPageBitsMin, id);
    }

    public int targetPageSize() {
        return 1 << targetPageBits;
    }
}
