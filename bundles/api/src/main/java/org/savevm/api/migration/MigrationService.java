package org.savevm.api.migration;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.Machine;

/**
 * The migration orchestrator of this framework instance (QEMU's MigrationState) as a service: its
 * capabilities and parameters, at most one outgoing and one incoming migration at a time, and the guest
 * it stops and starts.
 */
public interface MigrationService {
    /** QEMU's migrate-set-capabilities for one capability; refused with QEMU's message. */
    void setCapability(String name, boolean on);

    /** QEMU's migrate-set-parameters for one parameter given as on the command line; refused with QEMU's message. */
    void setParameter(String name, String value);

    /** The capabilities and parameters a migration started now would use. */
    MigrationSettings settings();

    /**
     * The settings these capabilities and parameters give on top of QEMU's defaults, without changing
     * this service's; throws {@link IllegalArgumentException} with QEMU's message on the first refusal.
     */
    MigrationSettings trySettings(List<String> capabilities, Map<String, String> parameters);

    /** Starts an outgoing migration to {@code uri} (tcp:, unix:, exec:, file:). */
    Outgoing migrate(String uri, MigrationListener listener);

    /** Starts listening for an incoming migration on {@code uri}. */
    Incoming incoming(String uri, boolean autostart, MigrationListener listener) throws IOException;

    /** The guest the migrations stop and start. */
    GuestControl guest();

    /** The machine whose RAM migrates, when there is one. */
    Optional<Machine> machine();
}
