package org.savevm.block.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SectionRegistration;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.BlockMigrationStats;
import org.savevm.api.machine.Machine;
import org.savevm.block.codec.BlockFlags;

/**
 * The "block" live handler (instance 0, version 1), QEMU 7.2's migration/block.c. QEMU registers "block" before
 * "ram" (section ids 1 and 2) and both save before any device: the order key {@code 0001/block} sorts before
 * ram's {@code 0002/ram}. Active only with the {@code block} capability; migrates every writable drive of the
 * machine, as QEMU skips read-only ones.
 *
 * <p>Holds no migration state: each save or load gets its own session, and its progress
 * ({@link BlockMigrationStats}) is published in that migration's {@link MigrationContext}.
 */
@Component(service = LiveStateHandler.class)
public final class BlockHandler implements LiveStateHandler {
    public static final String ORDER_KEY = "0001/block";
    private static final SectionRegistration REGISTRATION = SectionRegistration.builder(BlockFlags.IDSTR)
            .instanceId(BlockFlags.INSTANCE).version(BlockFlags.VERSION).orderKey(ORDER_KEY).build();

    private final Machine machine;

    @Activate
    public BlockHandler(@Reference Machine machine) {
        this.machine = machine;
    }

    @Override
    public SectionRegistration registration() {
        return REGISTRATION;
    }

    /** QEMU's block_is_active: migrate_use_block(). */
    @Override
    public boolean isActive(MigrationSettings settings) {
        return settings.capability(BlockFeatures.BLOCK);
    }

    @Override
    public SaveSession beginSave(MigrationContext context) throws IOException {
        List<BlockDrive> drives = new ArrayList<>();
        for (BlockDrive d : machine.drives()) {
            if (!d.readOnly()) {
                drives.add(d);
            }
        }
        MigrationSettings s = context.settings();
        BlockSaveSession session = new BlockSaveSession(drives, s.capability(BlockFeatures.ZERO_BLOCKS),
                s.parameter(BlockFeatures.INCREMENTAL, 0) != 0, BlockSaveSession.DEFAULT_BUFFERS);
        context.publish(BlockMigrationStats.class, session);
        return session;
    }

    @Override
    public LoadSession beginLoad(MigrationContext context) throws IOException {
        BlockLoadSession session = new BlockLoadSession(machine);
        context.publish(BlockMigrationStats.class, session);
        return session;
    }
}
