package org.savevm.api.machine;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Published in a save's {@code MigrationContext} by a live snapshot: the RAM blocks to save instead of the
 * machine's, {@link RamBlock#freeze() frozen views} taken at the snapshot's instant, in the machine's order.
 */
@ProviderType
public interface RamSnapshot {
    List<RamBlock> blocks();
}
