package org.savevm.ram.internal;

import java.util.Set;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.settings.MigrationFeatures;

/**
 * The capabilities and parameters the ram handler acts on (RamSaveSession, RamLoadSession): with this bundle
 * installed the orchestrator lets them be set; without it they are refused.
 */
@Component(service = MigrationFeatures.class)
public final class RamFeatures implements MigrationFeatures {
    private static final Set<String> CAPABILITIES = Set.of("xbzrle", "compress", "postcopy-ram", "x-ignore-shared",
            "release-ram");
    private static final Set<String> PARAMETERS = Set.of("xbzrle-cache-size", "compress-level", "compress-threads",
            "compress-wait-thread", "decompress-threads");

    @Override
    public Set<String> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public Set<String> parameters() {
        return PARAMETERS;
    }
}
