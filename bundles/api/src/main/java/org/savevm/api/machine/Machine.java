package org.savevm.api.machine;

import java.util.List;
import java.util.Optional;

import org.savevm.api.block.BlockDrive;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The emulated machine (a DS service): its type, its RAM blocks and the workload that plays the guest.
 * Configured by ConfigAdmin PID {@code org.savevm.machine} ({@code type}, {@code ram}).
 */
@ProviderType
public interface Machine {
    /** Machine type written in the configuration section, e.g. {@code pc-i440fx-7.2}. */
    String type();

    /**
     * The RAM blocks in QEMU's ram_list order: biggest max length first, equal ones in creation order. This
     * is the order of the MEM_SIZE record.
     */
    List<RamBlock> ramBlocks();

    Optional<RamBlock> ramBlock(String idstr);

    /** Sum of the used lengths: the MEM_SIZE total. */
    default long ramSize() {
        long s = 0;
        for (RamBlock b : ramBlocks()) {
            s += b.usedLength();
        }
        return s;
    }

    /**
     * Hex SHA-256 over every block in order (idstr, used length, then the CRC-32C and CRC-32 of each page):
     * equal on both ends of a successful migration, a page that differs shows with near certainty.
     */
    String ramHash();

    /** The guest: a workload generator writing into RAM on its own thread. */
    GuestWorkload workload();

    /** The machine's disks in the order they were given ({@code --disk}); none by default. */
    default List<BlockDrive> drives() {
        return List.of();
    }

    /** The drive with device name {@code name}. */
    default Optional<BlockDrive> drive(String name) {
        return drives().stream().filter(d -> d.name().equals(name)).findFirst();
    }

    /**
     * Detaches drive {@code name} from the machine and closes its image (QEMU's drive_del). Refused while a
     * migration or snapshot holds the drive ({@link BlockDrive#hold}), with QEMU's "Node 'X' is busy" error.
     *
     * @throws IllegalArgumentException no such drive
     * @throws IllegalStateException    the drive is held
     */
    default void detachDrive(String name) throws java.io.IOException {
        throw new IllegalStateException("this machine cannot detach drives");
    }

    /**
     * Resizes drive {@code name} to {@code newSize} bytes (QEMU's block_resize); refused while the drive is held.
     *
     * @throws IllegalArgumentException no such drive or a bad size
     * @throws IllegalStateException    the drive is held
     */
    default void resizeDrive(String name, long newSize) throws java.io.IOException {
        throw new IllegalStateException("this machine cannot resize drives");
    }
}
