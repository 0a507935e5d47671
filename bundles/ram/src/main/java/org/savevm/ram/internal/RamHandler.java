package org.savevm.ram.internal;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SectionRegistration;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamMigrationMonitor;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.api.machine.RamPostcopyDestination;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.ram.codec.RamFlags;

/**
 * The "ram" live handler (instance 0, version 4). QEMU registers "block" then "ram" early, as section ids
 * 1 and 2, and both save before any device; the order key {@code 0002/ram} (digits sort before device
 * names) keeps that order among handlers of the default priority.
 *
 * <p>Holds no migration state: each save or load gets its own session. It only remembers which stats
 * object belongs to which migration, weakly, so the orchestrator can read them.
 */
@Component(service = {LiveStateHandler.class, RamMigrationMonitor.class})
public final class RamHandler implements LiveStateHandler, RamMigrationMonitor {
    public static final String ORDER_KEY = "0002/ram";
    private static final SectionRegistration REGISTRATION = SectionRegistration.builder("ram").instanceId(0)
            .version(RamFlags.VERSION).orderKey(ORDER_KEY).build();

    private final Machine machine;
    private final Map<MigrationSettings, RamSaveStats> statsBySettings = new WeakHashMap<>();
    /** Open sessions by the settings they were opened with, for postcopy controls; weak both ways. */
    private final Map<MigrationSettings, WeakReference<RamSaveSession>> saveSessions = new WeakHashMap<>();
    private final Map<MigrationSettings, WeakReference<RamLoadSession>> loadSessions = new WeakHashMap<>();
    private volatile WeakReference<RamSaveStats> latest = new WeakReference<>(null);

    @Activate
    public RamHandler(@Reference Machine machine) {
        this.machine = machine;
        Thread warmUp = new Thread(ZeroPages::warmUp, "savevm-ram-warm-up");
        warmUp.setDaemon(true);
        warmUp.setPriority(Thread.MIN_PRIORITY);
        warmUp.start();
    }

    @Override
    public SectionRegistration registration() {
        return REGISTRATION;
    }

    @Override
    public SaveSession beginSave(MigrationSettings settings) throws IOException {
        RamSaveStats stats = new RamSaveStats();
        RamSaveSession session;
        try {
            session = new RamSaveSession(machine.ramBlocks(), settings, System::nanoTime, stats);
        } catch (IllegalArgumentException e) {
            throw new IOException("ram: " + e.getMessage(), e);
        }
        synchronized (statsBySettings) {
            statsBySettings.put(settings, stats);
            saveSessions.put(settings, new WeakReference<>(session));
        }
        latest = new WeakReference<>(stats);
        return session;
    }

    @Override
    public LoadSession beginLoad(MigrationSettings settings) throws IOException {
        RamLoadSession session = new RamLoadSession(machine, settings);
        synchronized (statsBySettings) {
            loadSessions.put(settings, new WeakReference<>(session));
        }
        return session;
    }

    /** QEMU's has_postcopy is migrate_postcopy_ram(): the core asks only when postcopy-ram is on. */
    @Override
    public boolean hasPostcopy() {
        return true;
    }

    @Override
    public Optional<RamPostcopySource> postcopySource(MigrationSettings settings) {
        synchronized (statsBySettings) {
            WeakReference<RamSaveSession> r = saveSessions.get(settings);
            return Optional.ofNullable(r == null || !settings.capability("postcopy-ram") ? null : r.get());
        }
    }

    @Override
    public Optional<RamPostcopyDestination> postcopyDestination(MigrationSettings settings) {
        synchronized (statsBySettings) {
            WeakReference<RamLoadSession> r = loadSessions.get(settings);
            return Optional.ofNullable(r == null ? null : r.get());
        }
    }

    @Override
    public Optional<RamMigrationStats> saveStats(MigrationSettings settings) {
        RamSaveStats s;
        synchronized (statsBySettings) {
            s = statsBySettings.get(settings);
        }
        return Optional.ofNullable(s).map(x -> x.snapshot(System.nanoTime()));
    }

    @Override
    public Optional<RamMigrationStats> latestSaveStats() {
        return Optional.ofNullable(latest.get()).map(x -> x.snapshot(System.nanoTime()));
    }
}
