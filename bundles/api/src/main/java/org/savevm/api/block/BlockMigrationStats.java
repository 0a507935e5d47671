package org.savevm.api.block;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The "block" handler's progress in one migration (QEMU's query-migrate {@code disk} member), published in the
 * migration's {@code MigrationContext} by the block handler and read by the orchestrator's info-migrate and the
 * demo. All values are bytes of disk data.
 */
@ProviderType
public interface BlockMigrationStats {
    /** Disk bytes sent (or, on the destination, received) so far, zero chunks counted at their full size. */
    long transferred();

    /** Bytes still to send: what the bulk phase has not yet read plus the chunks dirty now. */
    long remaining();

    /** Sum of the sizes of the migrated drives. */
    long total();
}
