package org.savevm.migration.postcopy;

import java.io.IOException;
import java.util.function.Supplier;

import org.savevm.api.MigrationContext;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.PageFaultHandler;
import org.savevm.api.machine.PageRange;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamPostcopyDestination;
import org.savevm.migration.postcopy.PostcopyIncoming;

/** The destination's postcopy through the ram handler's RamPostcopyDestination and the machine's RAM blocks. */
public final class RamPostcopyIncoming implements PostcopyIncoming {
    /** How long a guest write to a missing page waits for it. */
    private static final long FAULT_TIMEOUT_MILLIS = 60_000;

    private final Supplier<Machine> machine;

    public RamPostcopyIncoming(Supplier<Machine> machine) {
        this.machine = machine;
    }

    private static RamPostcopyDestination destination(MigrationContext context) throws IOException {
        return context.find(RamPostcopyDestination.class)
                .orElseThrow(() -> new IOException("postcopy: the ram handler has no load session for this migration"));
    }

    /** Over the machine's blocks; a machine not there yet has target-size pages only. */
    @Override
    public long ramPageSizeSummary() {
        return pageSizeSummary(machine.get());
    }

    /** ram_pagesize_summary of {@code m}'s RAM blocks (the source sends this in POSTCOPY_ADVISE). */
    public static long pageSizeSummary(Machine m) {
        if (m == null) {
            return RamBlock.TARGET_PAGE_SIZE;
        }
        long summary = 0;
        for (RamBlock b : m.ramBlocks()) {
            summary |= b.pageSize();
        }
        return summary == 0 ? RamBlock.TARGET_PAGE_SIZE : summary;
    }

    @Override
    public void discard(MigrationContext context, String block, long start, long length) throws IOException {
        try {
            destination(context).discard(new PageRange(block, start, length));
        } catch (IllegalArgumentException e) {
            throw new IOException("POSTCOPY_RAM_DISCARD: " + e.getMessage(), e);
        }
    }

    @Override
    public void listen(MigrationContext context, PageFaultHandler faults) throws IOException {
        destination(context).listen();
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
