package org.savevm.migration.internal;

import java.io.IOException;
import java.util.List;
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
import org.savevm.api.migration.GuestControl;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationService;
import org.savevm.api.migration.MigrationUri;
import org.savevm.api.settings.MigrationFeatures;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.objects.AuthzList;
import org.savevm.migration.objects.TlsCredsX509;
import org.savevm.migration.objects.UserObjects;
import org.savevm.migration.outgoing.OutgoingMigration;
import org.savevm.migration.params.ConfigProperties;
import org.savevm.migration.params.MigrationConfig;
import org.savevm.migration.params.FeatureTable;
import org.savevm.migration.params.MigrationConfigState;
import org.savevm.migration.postcopy.RamPostcopyIncoming;
import org.savevm.migration.transport.Tls;
import org.savevm.migration.transport.Transports;

/**
 * The migration orchestrator of this framework instance (QEMU's MigrationState): the capabilities and
 * parameters (ConfigAdmin PID {@code org.savevm.migration} and the migrate-set-* commands), at most one
 * outgoing and one incoming migration at a time.
 */
@Component(service = {MigrationManager.class, MigrationService.class}, configurationPid = "org.savevm.migration")
@Designate(ocd = MigrationConfig.class)
public final class MigrationManager implements MigrationService {
    private static final System.Logger LOG = System.getLogger(MigrationManager.class.getName());

    private final SaveVm saveVm;
    /** The orchestrator's features and those of the installed bundles (MigrationFeatures services). */
    private final FeatureTable features = new FeatureTable();
    private final MigrationConfigState config = new MigrationConfigState(features);
    /** The last ConfigAdmin properties, applied again when a bundle's features arrive. */
    private volatile Map<String, Object> configuration = Map.of();
    private final GuestControl guest;
    /** The -object / object-add objects: TLS credentials and authz lists named by the tls-* parameters. */
    private final UserObjects objects;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Machine machine;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile VirtualClock clock;

    private volatile OutgoingMigration outgoing;
    private volatile IncomingMigration incoming;

    @Activate
    public MigrationManager(@Reference(name = "saveVm") SaveVm saveVm, @Reference(name = "objects") UserObjects objects,
            Map<String, Object> props) {
        this.saveVm = saveVm;
        this.objects = objects;
        this.guest = new MachineGuest(() -> machine, () -> clock);
        applyConfiguration(props);
    }

    /** Test constructor: ConfigAdmin properties, no objects. */
    public MigrationManager(SaveVm saveVm, Map<String, Object> props) {
        this(saveVm, new UserObjects(), props);
    }

    /**
     * Embedding constructor: the given machine (its workload is the guest, no virtual clock), no ConfigAdmin, no
     * objects; what DS would inject. The bundles that implement capabilities still come through {@link #addFeatures}.
     */
    public MigrationManager(SaveVm saveVm, Machine machine) {
        this.saveVm = saveVm;
        this.objects = new UserObjects();
        this.machine = machine;
        this.guest = new MachineGuest(() -> this.machine, () -> clock);
    }

    /** Test and embedding constructor: no ConfigAdmin, the given guest. */
    public MigrationManager(SaveVm saveVm, GuestControl guest) {
        this(saveVm, guest, new UserObjects());
    }

    /**
     * Test and embedding factory: no ConfigAdmin, the given guest and objects. A factory, not a public constructor:
     * Felix SCR tries every public constructor with as many parameters as the DS one and logs an error for each
     * that does not fit.
     */
    public static MigrationManager withObjects(SaveVm saveVm, GuestControl guest, UserObjects objects) {
        return new MigrationManager(saveVm, guest, objects);
    }

    private MigrationManager(SaveVm saveVm, GuestControl guest, UserObjects objects) {
        this.saveVm = saveVm;
        this.guest = guest;
        this.objects = objects;
    }

    /** The objects the tls-* parameters name. */
    public UserObjects objects() {
        return objects;
    }

    @Modified
    void modified(Map<String, Object> props) {
        applyConfiguration(props);
    }

    /**
     * A bundle that implements capabilities or parameters arrived: the configuration is applied again, since it may
     * name what only this bundle implements (DS binds it after the constructor applied the configuration first).
     */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void addFeatures(MigrationFeatures f) {
        features.add(f);
        if (!configuration.isEmpty()) {
            applyConfiguration(configuration);
        }
    }

    /** A bundle went: what only it implemented is switched off before the next migration. */
    public void removeFeatures(MigrationFeatures f) {
        features.remove(f);
        java.util.Set<String> off = config.dropUnavailable();
        if (!off.isEmpty()) {
            // at the framework's shutdown the bundles go one by one: nothing the user has to hear about
            LOG.log(frameworkStopping() ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    "capabilities switched off, no installed bundle implements them: {0}", off);
        }
    }

    /** Whether the OSGi framework this class runs in is shutting down (false outside a framework). */
    private static boolean frameworkStopping() {
        org.osgi.framework.Bundle own = org.osgi.framework.FrameworkUtil.getBundle(MigrationManager.class);
        org.osgi.framework.BundleContext ctx = own == null ? null : own.getBundleContext();
        org.osgi.framework.Bundle system = ctx == null ? null : ctx.getBundle(0);
        return system != null && system.getState() == org.osgi.framework.Bundle.STOPPING;
    }

    private void applyConfiguration(Map<String, Object> props) {
        configuration = Map.copyOf(props);
        try {
            Map<String, Long> params = ConfigProperties.parameters(props);
            Optional<java.util.Set<String>> caps = ConfigProperties.capabilities(props);
            config.setParameters(params);
            caps.ifPresent(config::setCapabilities);
            ConfigProperties.textParameters(props).forEach(config::setParameter);
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

    @Override
    public MigrationSettings settings() {
        return config.snapshot();
    }

    @Override
    public MigrationSettings trySettings(List<String> capabilities, Map<String, String> parameters) {
        MigrationConfigState probe = new MigrationConfigState(features);
        capabilities.forEach(c -> probe.setCapability(c, true));
        parameters.forEach(probe::setParameter);
        return probe.snapshot();
    }

    @Override
    public GuestControl guest() {
        return guest;
    }

    @Override
    public Optional<Machine> machine() {
        return Optional.ofNullable(machine);
    }

    public SaveVm saveVm() {
        return saveVm;
    }

    /** QEMU's migrate_set_capability refuses while a migration runs. */
    @Override
    public void setCapability(String name, boolean on) {
        if (running()) {
            throw new IllegalStateException("There's a migration process in progress");
        }
        config.setCapability(name, on);
    }

    @Override
    public void setParameter(String name, String value) {
        config.setParameter(name, value);
    }

    public boolean running() {
        OutgoingMigration o = outgoing;
        IncomingMigration i = incoming;
        return (o != null && o.status().running()) || (i != null && i.status().running());
    }

    /** Starts an outgoing migration (QEMU's qmp_migrate). */
    @Override
    public synchronized OutgoingMigration migrate(String uri, MigrationListener listener) {
        return migrate(uri, listener, false, false);
    }

    /**
     * QEMU 7.2's qmp_migrate with its {@code blk} / {@code inc} arguments (HMP {@code migrate -b} / {@code -i}):
     * switches the {@code block} capability (and with {@code inc} the {@code block-incremental} parameter) on for
     * this one migration and back off when it ends, as migrate_prepare and block_cleanup_parameters do. Refused
     * when the capability or the parameter is already set ("Command options are incompatible with current
     * migration capabilities"), or when no installed handler implements block migration.
     */
    public synchronized OutgoingMigration migrate(String uri, MigrationListener listener, boolean blk, boolean inc) {
        MigrationUri parsed = MigrationUri.parse(uri);
        if (running()) {
            throw new IllegalStateException("There's a migration process in progress");
        }
        if (!blk && !inc) {
            return start(parsed, uri, listener);
        }
        if (config.capabilities().contains("block") || config.parameter("block-incremental") != 0) {
            throw new IllegalStateException("Command options are incompatible with current migration capabilities");
        }
        config.setCapability("block", true);
        if (inc) {
            config.setParameter("block-incremental", 1);
        }
        MigrationListener cleanup = new MigrationListener() {
            @Override
            public void stateChanged(MigrationStatus status, MigrationInfo info) {
                if (status.finished()) {
                    removeBlockOptions();
                }
                listener.stateChanged(status, info);
            }

            @Override
            public void progress(MigrationInfo info) {
                listener.progress(info);
            }

            @Override
            public void pass(long pass, MigrationInfo info) {
                listener.pass(pass, info);
            }
        };
        try {
            return start(parsed, uri, cleanup);
        } catch (RuntimeException e) {
            removeBlockOptions();
            throw e;
        }
    }

    private void removeBlockOptions() {
        config.setCapability("block", false);
        try {
            config.setParameter("block-incremental", 0);
        } catch (IllegalArgumentException e) {
            // the block handler left while the migration ran: its parameter is gone with it
        }
    }

    private OutgoingMigration start(MigrationUri parsed, String uri, MigrationListener listener) {
        MigrationSettings settings = config.snapshot();
        if (settings.capability("return-path") && parsed.scheme() != MigrationUri.Scheme.TCP
                && parsed.scheme() != MigrationUri.Scheme.UNIX) {
            throw new IllegalArgumentException("return-path needs a two-way channel: use tcp: or unix:, not " + uri);
        }
        checkMultifd(settings, parsed);
        Tls tls = clientTls(parsed);
        OutgoingMigration m = new OutgoingMigration(saveVm, () -> Transports.connect(parsed, tls), settings,
                () -> config.parameter("max-bandwidth"), () -> config.parameter("downtime-limit"), guest, listener);
        m.setRamPageSizeSummary(() -> RamPostcopyIncoming.pageSizeSummary(machine));
        outgoing = m;
        m.start();
        return m;
    }

    /** As QEMU 7.2's multifd_save_setup / multifd_load_setup: several connections, so sockets only. */
    private static void checkMultifd(MigrationSettings settings, MigrationUri uri) {
        if (!settings.capability("multifd")) {
            return;
        }
        if (uri.scheme() != MigrationUri.Scheme.TCP && uri.scheme() != MigrationUri.Scheme.UNIX) {
            throw new IllegalArgumentException("multifd is not supported by current protocol: use tcp: or unix:, not " + uri);
        }
        if (settings.capability("postcopy-ram")) {
            throw new IllegalArgumentException("multifd together with postcopy-ram is not implemented here");
        }
    }

    /**
     * QEMU's migration_tls_channel_connect, checked before the migration starts: with tls-creds set, the client
     * credentials it names and the hostname the server's certificate must carry (tls-hostname, else the URI's
     * host); null without TLS.
     */
    private Tls clientTls(MigrationUri uri) {
        String id = config.text("tls-creds");
        if (id.isEmpty()) {
            return null;
        }
        TlsCredsX509 creds = objects.tlsCreds(id, false);
        requireTcp(uri);
        String hostname = config.text("tls-hostname");
        if (hostname.isEmpty() && uri.scheme() == MigrationUri.Scheme.TCP) {
            hostname = uri.host().isEmpty() ? "localhost" : uri.host();
        }
        return Tls.client(creds, hostname, Tls.DEFAULT_HANDSHAKE_MILLIS);
    }

    private static void requireTcp(MigrationUri uri) {
        if (uri.scheme() != MigrationUri.Scheme.TCP) {
            throw new IllegalArgumentException("TLS (tls-creds) is implemented over tcp: only here, not " + uri);
        }
    }

    /** QEMU's migration_tls_channel_process_incoming: the server credentials and the tls-authz object, or null. */
    private Tls serverTls(MigrationUri uri, long handshakeMillis) {
        String id = config.text("tls-creds");
        if (id.isEmpty()) {
            return null;
        }
        TlsCredsX509 creds = objects.tlsCreds(id, true);
        requireTcp(uri);
        String authzId = config.text("tls-authz");
        AuthzList authz = authzId.isEmpty() ? null : objects.authz(authzId);
        return Tls.server(creds, authz, handshakeMillis);
    }

    /** Starts listening for an incoming migration (QEMU's -incoming / migrate-incoming). */
    @Override
    public synchronized IncomingMigration incoming(String uri, boolean autostart, MigrationListener listener)
            throws IOException {
        return incoming(uri, autostart, listener, 0);
    }

    /**
     * As {@link #incoming(String, boolean, MigrationListener)}, giving up when no source connects within
     * {@code idleTimeoutMillis}, or a connected source sends nothing for that long (0: wait forever, as QEMU).
     */
    public synchronized IncomingMigration incoming(String uri, boolean autostart, MigrationListener listener,
            long idleTimeoutMillis) throws IOException {
        if (idleTimeoutMillis < 0) {
            throw new IllegalArgumentException("the incoming timeout must not be negative");
        }
        MigrationUri parsed = MigrationUri.parse(uri);
        if (running()) {
            throw new IllegalStateException("There's a migration process in progress");
        }
        MigrationSettings settings = config.snapshot();
        checkMultifd(settings, parsed);
        Tls tls = serverTls(parsed, idleTimeoutMillis > 0 ? idleTimeoutMillis : Tls.DEFAULT_HANDSHAKE_MILLIS);
        IncomingMigration m = new IncomingMigration(saveVm, Transports.listen(parsed, tls), settings, guest,
                autostart, listener);
        m.setIdleTimeout(idleTimeoutMillis);
        m.setPostcopy(new RamPostcopyIncoming(() -> machine));
        m.setRamBlocks(name -> {
            Machine mc = machine;
            return mc == null ? Optional.empty() : mc.ramBlock(name);
        });
        incoming = m;
        m.start();
        return m;
    }

    /** QEMU's migrate-start-postcopy. */
    public void startPostcopy() {
        OutgoingMigration o = outgoing;
        if (o == null || !o.status().running()) {
            throw new IllegalStateException("Postcopy must be started after migration has been started");
        }
        o.startPostcopy();
    }

    /** QEMU's migrate -r URI: the postcopy-paused outgoing migration reconnects. */
    public void resume(String uri) {
        OutgoingMigration o = outgoing;
        if (o == null) {
            throw new IllegalStateException("Cannot resume if there is no paused migration");
        }
        o.resume(uri);
    }

    /** QEMU's migrate-recover URI: the postcopy-paused incoming migration listens for the source again. */
    public String recover(String uri) throws IOException {
        IncomingMigration i = incoming;
        if (i == null) {
            throw new IllegalStateException("Migrate recover can only be run when postcopy is paused.");
        }
        return i.recover(uri);
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
