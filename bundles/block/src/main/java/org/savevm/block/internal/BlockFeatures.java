package org.savevm.block.internal;

import java.util.Set;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.settings.MigrationFeatures;

/**
 * What the block handler acts on: the {@code block} capability (QEMU's migrate_use_block, the handler's
 * is_active), {@code zero-blocks} (ZERO_BLOCK records for all-zero chunks) and the {@code block-incremental}
 * parameter (shared base: only chunks allocated in the top image). With this bundle installed the orchestrator
 * lets them be set, as a QEMU 7.2 built with CONFIG_LIVE_BLOCK_MIGRATION does.
 */
@Component(service = MigrationFeatures.class)
public final class BlockFeatures implements MigrationFeatures {
    static final String BLOCK = "block";
    static final String ZERO_BLOCKS = "zero-blocks";
    static final String INCREMENTAL = "block-incremental";

    @Override
    public Set<String> capabilities() {
        return Set.of(BLOCK, ZERO_BLOCKS);
    }

    @Override
    public Set<String> parameters() {
        return Set.of(INCREMENTAL);
    }
}
