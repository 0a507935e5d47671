package org.savevm.migration.internal;

import java.io.IOException;
import java.util.Optional;
import java.util.function.Supplier;

import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.PageFaultHandler;
import org.savevm.api.machine.PageRange;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamMigrationMonitor;
import org.savevm.api.machine.RamPostcopyDestination;
import org.savevm.migration.precopy.PostcopyIncoming;

/** The destination's postcopy through the ram handler's RamPostcopyDestination and the machine's RAM blocks. */
final class RamPostcopyIncoming implements PostcopyIncoming {
    /** How long a guest write to a missing page waits for it. */
    private static final long FAULT_TIMEOUT_MILLIS = 60_000;

    private final Supplier<RamMigrationMonitor> ramMonitor;
    private final Supplier<Machine> machine;

    RamPostcopyIncoming(Supplier<RamMigrationMonitor> ramMonitor, Supplier<Machine> machine) {
        this.ramMonitor = ramMonitor;
        this.machine = machine;
    }

    private RamPostcopyDestination destination(MigrationSettings settings) throws IOException {
        RamMigrationMonitor r = ramMonitor.get();
        Optional<RamPostcopyDestination> d = r == null ? Optional.empty() : r.postcopyDestination(settings);
        return d.orElseThrow(() -> new IOException("postcopy: the ram handler has no load session for this migration"));
    }

    @Override
    public void discard(MigrationSettings settings, String block, long start, long length) throws IOException {
        try {
            destination(settings).discard(new PageRange(block, start, length));
        } catch (IllegalArgumentException e) {
            throw new IOException("POSTCOPY_RAM_DISCARD: " + e.getMessage(), e);
        }
    }

    @Override
    public void listen(MigrationSettings settings, PageFaultHandler faults) throws IOException {
        destination(settings).listen();
        Machine m = machine.get();
        if (m != null) {
            for (RamBlock b : m.ramBlocks()) {
                b.setPageFaultHandler(faults, FAULT_TIMEOUT_MILLIS);
            }
        }
    }

    @Override
    public void finish() {
        Machine m = machine.get();
        if (m != null) {
            for (RamBlock b : m.ramBlocks()) {
                b.setPageFaultHandler(null, FAULT_TIMEOUT_MILLIS);
            }
        }
    }
}
