package org.savevm.machine.internal.commands;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;

/** {@code machine}: the machine type, its RAM blocks in migration order and the RAM hash. */
@Component(service = SavevmCommand.class)
public final class MachineCommand implements SavevmCommand {
    private final Machine machine;

    @Activate
    public MachineCommand(@Reference Machine machine) {
        this.machine = machine;
    }

    @Override
    public String name() {
        return "machine";
    }

    @Override
    public String summary() {
        return "machine type, RAM blocks, drives and their hashes";
    }

    @Override
    public String usage() {
        return "machine [--no-hash]";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        boolean hash = true;
        for (String a : args) {
            if (a.equals("--no-hash")) {
                hash = false;
            } else {
                err.println("unknown argument '" + a + "'; usage: " + usage());
                return 2;
            }
        }
        out.println("type: " + machine.type());
        out.printf("ram: 0x%x bytes in %d blocks%n", machine.ramSize(), machine.ramBlocks().size());
        for (RamBlock b : machine.ramBlocks()) {
            out.printf("  %-24s used 0x%-9x max 0x%-9x%s%n", b.idstr(), b.usedLength(), b.maxLength(),
                    b.resizeable() ? " resizeable" : "");
        }
        for (BlockDrive d : machine.drives()) {
            out.printf("drive %s: %s %s, %d bytes%s%n", d.name(), d.image().format().qemuName(), d.image().path(),
                    d.size(), d.readOnly() ? ", read-only" : "");
        }
        out.println("guest: " + (machine.workload().running() ? "running" : "paused"));
        if (hash) {
            out.println("ram hash: " + machine.ramHash());
            for (BlockDrive d : machine.drives()) {
                try {
                    out.println("disk hash " + d.name() + ": " + d.contentHash());
                } catch (IOException e) {
                    err.println("disk hash " + d.name() + ": " + e.getMessage());
                    return 1;
                }
            }
        }
        return 0;
    }
}
