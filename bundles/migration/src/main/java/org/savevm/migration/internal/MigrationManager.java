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
import org.savevm.api.migration.GuestControl;
import org.savevm.api.migration.MigrationService;
import org.savevm.migration.precopy.IncomingMigration;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.migration.precopy.OutgoingMigration;
import org.savevm.migration.precopy.StreamEnds;
import org.savevm.core.commands.DiscardRange;
import org.savevm.core.commands.IncomingCommands;
import org.savevm.api.machine.RamBlock;
import org.savevm.migration.precopy.PostcopyIncoming;
import java.util.List;
import org.savevm.core.commands.StreamLoader;
import org.savevm.core.commands.StreamSaver;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.api.migration.MigrationUri;
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

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile StreamSaver streamSaver;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile StreamLoader streamLoader;

    private final StreamEnds.Starter starter;
    private final StreamEnds.Receiver receiver;

    private volatile OutgoingMigration outgoing;
    private volatile IncomingMigration incoming;

    @Activate
    public MigrationManager(@Reference(name = "saveVm") SaveVm saveVm, Map<String, Object> props) {
        this.saveVm = saveVm;
        this.guest = new MachineGuest(() -> machine, () -> clock);
        this.starter = this::beginWithCore;
        this.receiver = this::loadWithCore;
        applyConfiguration(props);
    }

    /** Test and embedding constructor: no ConfigAdmin, the given guest, no return path. */
    public MigrationManager(SaveVm saveVm, GuestControl guest) {
        this(saveVm, StreamEnds.of(saveVm), StreamEnds.receiverOf(saveVm), guest);
    }

    /** Test and embedding constructor with explicit stream ends (e.g. with return-path commands). */
    public MigrationManager(SaveVm saveVm, StreamEnds.Starter starter, StreamEnds.Receiver receiver, GuestControl guest) {
        this.saveVm = saveVm;
        this.starter = starter;
        this.receiver = receiver;
        this.guest = guest;
    }

    /** The savevm core's start; with the return path through its StreamSaver (OPEN_RETURN_PATH, PING(1)). */
    private SaveVm.Outgoing beginWithCore(MigrationOutput out, MigrationSettings settings, boolean returnPath,
            boolean postcopyAdvise) throws IOException {
        if (!returnPath && !postcopyAdvise) {
            return saveVm.beginSave(out, settings);
        }
        StreamSaver s = streamSaver;
        if (s == null) {
            throw new IOException("return-path needs the savevm core's StreamSaver service, which is not available");
        }
        return s.beginSave(out, settings, (o, commands) -> {
            if (returnPath) {
                commands.openReturnPath();
                commands.ping(1);
            }
            if (postcopyAdvise) {
                // ram_pagesize_summary: every block here uses the target page size.
                commands.postcopyAdvise(RamBlock.TARGET_PAGE_SIZE, RamBlock.TARGET_PAGE_SIZE);
            }
        });
    }

    /** The savevm core's load; with its StreamLoader the return-path commands reach the orchestrator. */
    private void loadWithCore(MigrationInput in, MigrationSettings settings, StreamEnds.ReturnPathSink rp)
            throws IOException {
        StreamLoader l = streamLoader;
        if (l == null) {
            saveVm.load(in, settings);
            return;
        }
        l.load(in, settings, new IncomingCommands() {
            @Override
            public void openReturnPath() throws IOException {
                rp.open();
            }

            @Override
            public void ping(int value) throws IOException {
                rp.ping(value);
            }

            @Override
            public void postcopyAdvise(boolean ramPostcopy, long ramPageSizeSummary, long targetPageSize)
                    throws IOException {
                rp.postcopyAdvise();
            }

            @Override
            public void postcopyListen() throws IOException {
                rp.postcopyListen();
            }

            @Override
            public void postcopyRun() throws IOException {
                rp.postcopyRun();
            }

            @Override
            public void postcopyRamDiscard(String ramBlock, List<DiscardRange> ranges) throws IOException {
                for (DiscardRange r : ranges) {
                    rp.postcopyDiscard(ramBlock, r.start(), r.length());
                }
            }
        });
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

    @Override
    public MigrationSettings settings() {
        return config.snapshot();
    }

    @Override
    public MigrationSettings trySettings(List<String> capabilities, Map<String, String> parameters) {
        MigrationConfigState probe = new MigrationConfigState();
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
        MigrationUri parsed = MigrationUri.parse(uri);
        if (running()) {
            throw new IllegalStateException("There's a migration process in progress");
        }
        MigrationSettings settings = config.snapshot();
        if (settings.capability("return-path") && parsed.scheme() != MigrationUri.Scheme.TCP
                && parsed.scheme() != MigrationUri.Scheme.UNIX) {
            throw new IllegalArgumentException("return-path needs a two-way channel: use tcp: or unix:, not " + uri);
        }
        checkMultifd(settings, parsed);
        OutgoingMigration m = new OutgoingMigration(starter, () -> Transports.connect(parsed), settings,
                () -> config.parameter("max-bandwidth"), () -> config.parameter("downtime-limit"), guest,
                this::ramStats, listener);
        m.setPostcopySource(st -> {
            RamMigrationMonitor r = ramMonitor;
            return r == null ? Optional.empty() : r.postcopySource(st);
        });
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

    private Optional<RamMigrationStats> ramStats(MigrationSettings settings) {
        RamMigrationMonitor r = ramMonitor;
        return r == null ? Optional.empty() : r.saveStats(settings);
    }

    /** Starts listening for an incoming migration (QEMU's -incoming / migrate-incoming). */
    @Override
    public synchronized IncomingMigration incoming(String uri, boolean autostart, MigrationListener listener)
            throws IOException {
        MigrationUri parsed = MigrationUri.parse(uri);
        if (running()) {
            throw new IllegalStateException("There's a migration process in progress");
        }
        MigrationSettings settings = config.snapshot();
        checkMultifd(settings, parsed);
        IncomingMigration m = new IncomingMigration(receiver, Transports.listen(parsed), settings, guest,
                autostart, listener);
        m.setPostcopy(new RamPostcopyIncoming(() -> ramMonitor, () -> machine));
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
