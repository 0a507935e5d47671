package org.savevm.core.commands;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;
import org.savevm.api.MigrationSettings;
import org.savevm.stream.MigrationOutput;

/**
 * The savevm core's save start for a migration orchestrator: like {@code SaveVm.beginSave}, with a
 * hook between the configuration section and the START sections, where QEMU's migration thread sends
 * OPEN_RETURN_PATH, PING(1), POSTCOPY_ADVISE and ENABLE_COLO. Registered by the savevm bundle next to
 * SaveVm.
 */
@ProviderType
public interface StreamSaver {
    /** Written after the header and configuration, before any START section. */
    interface BeforeSetup {
        void write(MigrationOutput out, CommandWriter commands) throws IOException;
    }

    PostcopyOutgoing beginSave(MigrationOutput out, MigrationSettings settings, BeforeSetup beforeSetup)
            throws IOException;
}
