package org.savevm.migration.internal;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SaveVm;
import org.savevm.api.VirtualClock;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamMigrationMonitor;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.migration.params.ConfigProperties;
import org.savevm.migration.params.MigrationConfig;
import org.savevm.migration.params.MigrationConfigState;
import org.savevm.migration.precopy.GuestControl;
import org.savevm.migration.precopy.IncomingMigration;
import org.savevm.migration.precopy.MigrationInfo;
import org.savevm.migration.precopy.MigrationListener;
import org.savevm.migration.precopy.OutgoingMigration;
import org.savevm.migration.transport.MigrationUri;
import org.savevm.migration.transport.Transports;

/**
 * The migration orchestrator of this framework instance (QEMU's MigrationState): the capabilities and
 * parameters (ConfigAdmin PID {@code org.savevm.migration} and the migrate-set-* commands), at most one
 * outgoing and one incoming migration at a time.
 */
@Component(service = MigrationManager.class, configurationPid = "org.savevm.migration")
@Designate(ocd = MigrationConfig.class)
public final class MigrationManager {
    private static final System.Logger LOG = System.getLogger(MigrationManager.class.getName());

    private final SaveVm saveVm;
    private final MigrationConfigState config = new MigrationConfigState();
    private final GuestControl guest;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Machine machine;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile VirtualClock clock;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile RamMigrationMonitor ramMonitor;

    private volatile OutgoingMigration outgoing;
    private volatile IncomingMigration incoming;

    @Activate
    public MigrationManager(@Reference(name = "saveVm") SaveVm saveVm, Map<String, Object> props) {
        this.saveVm = saveVm;
        this.guest = new MachineGuest(() -> machine, () -> clock);
        applyConfiguration(props);
    }

    /** Test and embedding constructor: no ConfigAdmin, the given guest. */
    public MigrationManager(SaveVm saveVm, GuestControl guest) {
        this.saveVm = saveVm;
        this.guest = guest;
    }

    @Modified
    void modified(Map<String, Object> props) {
        applyConfiguration(props);
    }

    private void applyConfiguration(Map<String, Object> props) {
        try {
            Map<String, Long> params = ConfigProperties.parameters(props);
            Optional<java.util.Set<String>> caps = ConfigProperties.capabilities(props);
            config.setParameters(params);
            caps.ifPresent(config::setCapabilities);
        } catch (IllegalArgumentException e) {
            // ConfigAdmin cannot be told no: the last valid values stay in force.
            LOG.log(System.Logger.Level.ERROR, "configuration org.savevm.migration refused: {0}", e.getMessage());
        }
    }

    @Deactivate
    void deactivate() {
        OutgoingMigration o = outgoing;
        if (o != null) {
            o.cancel();
        }
        IncomingMigration i = incoming;
        if (i != null) {
            i.cancel();
        }
    }

    public MigrationConfigState config() {
        return config;
    }

    public GuestControl guest() {
        return guest;
    }

    public Optional<Machine> machine() {
        return Optional.ofNullable(machine);
    }

    public SaveVm saveVm() {
        return saveVm;
    }

    /** QEMU's migrate_set_capability refuses while a migration runs. */
    public void setCapability(String name, boolean on) {
        if (running()) {
            throw new IllegalStateException("There's a migration process in progress");
        }
        config.setCapability(name, on);
    }

    public void setParameter(String name, String value) {
        config.setParameter(name, value);
    }

    public boolean running() {
        OutgoingMigration o = outgoing;
        IncomingMigration i = incoming;
        return (o != null && o.status().running()) || (i != null && i.status().running());
    }

    /** Starts an outgoing migration (QEMU's qmp_migrate). */
    public synchronized OutgoingMigration migrate(String uri, MigrationListener listener) {
        MigrationUri parsed = MigrationUri.parse(uri);
        if (running()) {
            throw new IllegalStateException("There's a migration process in progress");
        }
        MigrationSettings settings = config.snapshot();
        OutgoingMigration m = new OutgoingMigration(saveVm, () -> Transports.connect(parsed), settings,
                () -> config.parameter("max-bandwidth"), () -> config.parameter("downtime-limit"), guest,
                this::ramStats, listener);
        outgoing = m;
        m.start();
        return m;
    }

    private Optional<RamMigrationStats> ramStats(MigrationSettings settings) {
        RamMigrationMonitor r = ramMonitor;
        return r == null ? Optional.empty() : r.saveStats(settings);
    }

    /** Starts listening for an incoming migration (QEMU's -incoming / migrate-incoming). */
    public synchronized IncomingMigration incoming(String uri, boolean autostart, MigrationListener listener)
            throws IOException {
        MigrationUri parsed = MigrationUri.parse(uri);
        if (running()) {
            throw new IllegalStateException("There's a migration process in progress");
        }
        IncomingMigration m = new IncomingMigration(saveVm, Transports.listen(parsed), config.snapshot(), guest,
                autostart, listener);
        incoming = m;
        m.start();
        return m;
    }

    /** QEMU's migrate_cancel: the outgoing migration if one runs, else a waiting incoming one. */
    public boolean cancel() {
        OutgoingMigration o = outgoing;
        if (o != null && o.status().running()) {
            o.cancel();
            return true;
        }
        IncomingMigration i = incoming;
        if (i != null && i.status().running()) {
            i.cancel();
            return true;
        }
        return false;
    }

    /** query-migrate: the outgoing migration, else the incoming one, else status none. */
    public MigrationInfo info() {
        OutgoingMigration o = outgoing;
        if (o != null) {
            return o.info();
        }
        IncomingMigration i = incoming;
        return i != null ? i.info() : MigrationInfo.NONE;
    }

    public Optional<OutgoingMigration> outgoing() {
        return Optional.ofNullable(outgoing);
    }

    public Optional<IncomingMigration> incomingMigration() {
        return Optional.ofNullable(incoming);
    }

    /** Waits for the current outgoing migration, bounded. */
    public boolean awaitOutgoing(long timeout, TimeUnit unit) throws InterruptedException {
        OutgoingMigration o = outgoing;
        return o == null || o.await(timeout, unit);
    }
}
