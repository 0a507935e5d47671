package org.savevm.block.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SaveVm;
import org.savevm.api.block.BlockDrive;
import org.savevm.block.testing.DrivesMachine;
import org.savevm.core.SaveVmService;
import org.savevm.core.testing.BlobEngine;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.registry.internal.HandlerRegistry;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * The real savevm core and registry with the block handler over test drives (and the ram handler when asked):
 * the pieces a savevm process assembles through DS, put together in-process.
 */
final class BlockVm implements AutoCloseable {
    final SimulatedMachine ram;
    final DrivesMachine machine;
    final HandlerRegistry registry = new HandlerRegistry();
    final SaveVmService saveVm;

    BlockVm(List<? extends BlockDrive> drives, boolean withRam) {
        this.ram = new SimulatedMachine("pc-i440fx-7.2", 16L << 20);
        this.machine = new DrivesMachine(ram, drives);
        registry.add(new BlockHandler(machine), "org.savevm.block");
        if (withRam) {
            registry.add(new org.savevm.ram.internal.RamHandler(machine), "org.savevm.ram");
        }
        saveVm = new SaveVmService(registry, new BlobEngine(), Map.of());
    }

    static MigrationSettings block(boolean zeroBlocks, boolean incremental) {
        MigrationSettings s = MigrationSettings.DEFAULTS.withCapability("block", true);
        if (zeroBlocks) {
            s = s.withCapability("zero-blocks", true);
        }
        return incremental ? s.withParameter("block-incremental", 1) : s;
    }

    /** A whole stream: setup, iterations with {@code betweenIterations} after each of the first rounds, completion. */
    byte[] save(MigrationContext context, int dirtyingRounds, IoAction betweenIterations) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(b)) {
            try (SaveVm.Outgoing o = saveVm.beginSave(out, context, SaveVm.BeforeSetup.NONE)) {
                int round = 0;
                while (!o.iterate() || round < dirtyingRounds) {
                    if (round++ < dirtyingRounds) {
                        betweenIterations.run();
                    }
                }
                o.complete();
            }
        }
        return b.toByteArray();
    }

    void load(byte[] stream, MigrationSettings settings) throws IOException {
        saveVm.load(MigrationInput.of(stream), settings);
    }

    interface IoAction {
        void run() throws IOException;
    }

    @Override
    public void close() {
        ram.close();
    }
}
