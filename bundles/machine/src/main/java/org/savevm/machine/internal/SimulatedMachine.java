package org.savevm.machine.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;

/** A machine built from a profile: its RAM blocks in ram_list order and a (paused) workload. */
public final class SimulatedMachine implements Machine, AutoCloseable {
    private final String type;
    private final List<RamBlock> blocks;
    private final WorkloadGenerator workload;

    public SimulatedMachine(String type, long ramSize) {
        this(type, ramSize, WorkloadSpec.DEFAULT);
    }

    public SimulatedMachine(String type, long ramSize, WorkloadSpec spec) {
        this.type = type;
        List<RamBlockSpec> specs = MachineProfile.ramListOrder(MachineProfile.blocks(type, ramSize),
                RamBlockSpec::maxLength);
        List<RamBlock> l = new ArrayList<>();
        for (RamBlockSpec s : specs) {
            l.add(new OffHeapRamBlock(s.idstr(), s.usedLength(), s.maxLength(), s.resizeable(), s.regionAddress()));
        }
        this.blocks = List.copyOf(l);
        this.workload = new WorkloadGenerator(blocks, spec, "savevm-guest-" + type);
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
            md.update(b.sha256());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Override
    public GuestWorkload workload() {
        return workload;
    }

    @Override
    public void close() {
        workload.close();
    }
}
