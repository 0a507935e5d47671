package org.savevm.block.testing;

import java.util.List;
import java.util.Optional;

import org.savevm.api.block.BlockDrive;
import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;

/** A machine (RAM from {@code ram}) with the given drives, until the machine bundle has drives of its own. */
public final class DrivesMachine implements Machine {
    private final Machine ram;
    private final List<BlockDrive> drives;

    public DrivesMachine(Machine ram, List<? extends BlockDrive> drives) {
        this.ram = ram;
        this.drives = List.copyOf(drives);
    }

    @Override
    public String type() {
        return ram.type();
    }

    @Override
    public List<RamBlock> ramBlocks() {
        return ram.ramBlocks();
    }

    @Override
    public Optional<RamBlock> ramBlock(String idstr) {
        return ram.ramBlock(idstr);
    }

    @Override
    public String ramHash() {
        return ram.ramHash();
    }

    @Override
    public GuestWorkload workload() {
        return ram.workload();
    }

    @Override
    public List<BlockDrive> drives() {
        return drives;
    }
}
