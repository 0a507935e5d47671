package org.savevm.ram.internal;

import java.io.IOException;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SectionRegistration;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.MultifdReceiver;
import org.savevm.api.machine.MultifdSender;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamMigrationMonitor;
import org.savevm.api.machine.RamPostcopyDestination;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.api.machine.RamSnapshot;
import org.savevm.ram.codec.RamFlags;

/**
 * The "ram" live handler (instance 0, version 4). QEMU registers "block" then "ram" early, as section ids
 * 1 and 2, and both save before any device; the order key {@code 0002/ram} (digits sort before device
 * names) keeps that order among handlers of the default priority.
 *
 * <p>Holds no migration state: each save or load gets its own session, and what the orchestrator reads
 * of it — the stats ({@link RamMigrationMonitor}) and the postcopy controls ({@link RamPostcopySource},
 * {@link RamPostcopyDestination}) — is published in that migration's {@link MigrationContext}.
 */
@Component(service = LiveStateHandler.class)
public final class RamHandler implements LiveStateHandler {
    public static final String ORDER_KEY = "0002/ram";
    private static final SectionRegistration REGISTRATION = SectionRegistration.builder("ram").instanceId(0)
            .version(RamFlags.VERSION).orderKey(ORDER_KEY).build();

    private final Machine machine;

    @Activate
    public RamHandler(@Reference Machine machine) {
        this.machine = machine;
        Thread warmUp = new Thread(ZeroPages::warmUp, "savevm-ram-warm-up");
        warmUp.setDaemon(true);
        warmUp.setPriority(Thread.MIN_PRIORITY);
        warmUp.start();
    }

    @Override
    public SectionRegistration registration() {
        return REGISTRATION;
    }

    @Override
    public SaveSession beginSave(MigrationContext context) throws IOException {
        MigrationSettings settings = context.settings();
        RamSaveStats stats = new RamSaveStats();
        RamSaveSession session;
        try {
            // a live snapshot saves frozen views of the blocks, taken at its instant
            List<RamBlock> blocks = context.find(RamSnapshot.class).map(RamSnapshot::blocks)
                    .orElseGet(machine::ramBlocks);
            session = new RamSaveSession(blocks, settings,
                    context.find(MultifdSender.class).orElse(null), System::nanoTime, stats);
        } catch (IllegalArgumentException e) {
            throw new IOException("ram: " + e.getMessage(), e);
        }
        context.publish(RamMigrationMonitor.class, () -> stats.snapshot(System.nanoTime()));
        if (settings.capability("postcopy-ram")) {
            context.publish(RamPostcopySource.class, session);
        }
        return session;
    }

    @Override
    public LoadSession beginLoad(MigrationContext context) throws IOException {
        RamLoadSession session = new RamLoadSession(machine, context.settings(),
                context.find(MultifdReceiver.class).orElse(null));
        context.publish(RamPostcopyDestination.class, session);
        return session;
    }

    /** QEMU's has_postcopy is migrate_postcopy_ram(): the core asks only when postcopy-ram is on. */
    @Override
    public boolean hasPostcopy() {
        return true;
    }
}
