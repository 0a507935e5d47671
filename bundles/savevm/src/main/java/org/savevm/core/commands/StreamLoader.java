package org.savevm.core.commands;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;
import org.savevm.api.MigrationSettings;
import org.savevm.stream.MigrationInput;

/**
 * The savevm core's loader with a destination's command callbacks (the {@code SaveVm.load} service
 * method uses {@link IncomingCommands#NONE}). Registered by the savevm bundle next to SaveVm.
 */
@ProviderType
public interface StreamLoader {
    void load(MigrationInput in, MigrationSettings settings, IncomingCommands commands) throws IOException;
}
