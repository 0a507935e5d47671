package org.savevm.machine.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.savevm.api.machine.RamBlock;

/**
 * RAM block lists of the machine types we emulate, so that our MEM_SIZE record matches QEMU's. For
 * {@code pc-i440fx-7.2 -m N} QEMU creates pc.ram (N), pc.bios (256 KiB), pc.rom (128 KiB) and, at machine
 * done, the fw_cfg ACPI blobs: etc/acpi/tables (128 KiB used, resizeable up to 2 MiB, the
 * ACPI_BUILD_TABLE_MAX_SIZE), etc/table-loader and etc/acpi/rsdp (one page each, resizeable). The real
 * stream lists them biggest max length first (see {@link #ramListOrder}).
 */
public final class MachineProfile {
    public static final String PC_I440FX_7_2 = "pc-i440fx-7.2";

    private MachineProfile() {
    }

    /** Block list in creation order for {@code type} with {@code ramSize} bytes of pc.ram. */
    public static List<RamBlockSpec> blocks(String type, long ramSize) {
        if (!type.startsWith("pc-i440fx-") && !type.equals("pc")) {
            throw new IllegalArgumentException("unsupported machine type '" + type + "' (supported: "
                    + PC_I440FX_7_2 + ")");
        }
        if (ramSize <= 0 || ramSize % RamBlock.TARGET_PAGE_SIZE != 0) {
            throw new IllegalArgumentException("RAM size must be a positive multiple of 4 KiB: " + ramSize);
        }
        List<RamBlockSpec> l = new ArrayList<>();
        l.add(new RamBlockSpec("pc.ram", ramSize, ramSize, false, 0));
        l.add(new RamBlockSpec("pc.bios", 0x40000, 0x40000, false, 0xfffc0000L));
        l.add(new RamBlockSpec("pc.rom", 0x20000, 0x20000, false, 0xc0000L));
        l.add(new RamBlockSpec("/rom@etc/acpi/tables", 0x20000, 0x200000, true, 0));
        l.add(new RamBlockSpec("/rom@etc/table-loader", 0x1000, 0x1000, true, 0));
        l.add(new RamBlockSpec("/rom@etc/acpi/rsdp", 0x1000, 0x1000, true, 0));
        return l;
    }

    /**
     * QEMU's ram_list order: a new block goes before the first one with a smaller max length, so the list
     * is sorted by max length, biggest first, ties kept in creation order (a stable sort).
     */
    public static <T> List<T> ramListOrder(List<T> creationOrder, java.util.function.ToLongFunction<T> maxLength) {
        List<T> sorted = new ArrayList<>(creationOrder);
        sorted.sort(Comparator.comparingLong(maxLength).reversed());
        return sorted;
    }
}
