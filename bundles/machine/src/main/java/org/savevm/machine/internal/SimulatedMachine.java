package org.savevm.machine.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import org.savevm.api.block.BlockDrive;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;

/** A machine built from a profile: its RAM blocks in ram_list order and a (paused) workload. */
public final class SimulatedMachine implements Machine, AutoCloseable {
    private final String type;
    private final List<RamBlock> blocks;
    /** The attached drives; drive_del removes one. */
    private final List<MachineDrive> drives;
    private final WorkloadGenerator workload;

    public SimulatedMachine(String type, long ramSize) {
        this(type, ramSize, WorkloadSpec.DEFAULT);
    }

    public SimulatedMachine(String type, long ramSize, WorkloadSpec spec) {
        this(type, ramSize, spec, List.of(), 0);
    }

    /**
     * A machine with disks: {@code drives} in the order given (the machine closes them), written by the guest at
     * {@code diskBytesPerSecond} while it runs.
     */
    public SimulatedMachine(String type, long ramSize, WorkloadSpec spec, List<MachineDrive> drives,
            long diskBytesPerSecond) {
        this.type = type;
        List<RamBlockSpec> specs = MachineProfile.ramListOrder(MachineProfile.blocks(type, ramSize),
                RamBlockSpec::maxLength);
        List<RamBlock> l = new ArrayList<>();
        for (RamBlockSpec s : specs) {
            l.add(new OffHeapRamBlock(s.idstr(), s.usedLength(), s.maxLength(), s.resizeable(), s.regionAddress()));
        }
        this.blocks = List.copyOf(l);
        this.drives = new java.util.concurrent.CopyOnWriteArrayList<>(drives);
        this.workload = new WorkloadGenerator(blocks, this.drives, diskBytesPerSecond, spec, System::nanoTime)
                .start("savevm-guest-" + type);
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public List<RamBlock> ramBlocks() {
        return blocks;
    }

    @Override
    public Optional<RamBlock> ramBlock(String idstr) {
        for (RamBlock b : blocks) {
            if (b.idstr().equals(idstr)) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    @Override
    public String ramHash() {
        MessageDigest md = OffHeapRamBlock.sha256Digest();
        for (RamBlock b : blocks) {
            md.update(b.idstr().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            long used = b.usedLength();
            for (int i = 7; i >= 0; i--) {
                md.update((byte) (used >>> (i * 8)));
            }
            // each page's CRC-32C and CRC-32 (64 bits a page) rather than the bytes themselves: both are
            // intrinsics even in C1-compiled code, where SHA-256 over 1 GiB took 9 s instead of 0.1 s
            CRC32C crc32c = new CRC32C();
            CRC32 crc32 = new CRC32();
            ByteBuffer pair = ByteBuffer.allocate(8);
            for (long off = 0; off < used; off += RamBlock.TARGET_PAGE_SIZE) {
                ByteBuffer page = b.page(off);
                crc32c.reset();
                crc32c.update(page.duplicate());
                crc32.reset();
                crc32.update(page);
                pair.putInt(0, (int) crc32c.getValue()).putInt(4, (int) crc32.getValue());
                md.update(pair.array());
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Override
    public WorkloadGenerator workload() {
        return workload;
    }

    @Override
    public List<BlockDrive> drives() {
        return List.copyOf(drives);
    }

    /** The drives as the machine bundle's own code sees them. */
    public List<MachineDrive> machineDrives() {
        return List.copyOf(drives);
    }

    private MachineDrive machineDrive(String name) {
        for (MachineDrive d : drives) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("Device '" + name + "' not found");
    }

    @Override
    public void detachDrive(String name) throws IOException {
        MachineDrive d = machineDrive(name);
        d.detach();
        drives.remove(d);
    }

    @Override
    public void resizeDrive(String name, long newSize) throws IOException {
        machineDrive(name).resize(newSize);
    }

    @Override
    public void close() {
        workload.close();
        for (MachineDrive d : drives) {
            try {
                d.close();
            } catch (IOException | RuntimeException e) {
                System.getLogger(SimulatedMachine.class.getName()).log(System.Logger.Level.WARNING,
                        "closing " + d + ": " + e.getMessage());
            }
        }
    }
}
