package org.savevm.snapshot.internal;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.savevm.api.IncomingCommands;
import org.savevm.api.LoadReport;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SaveVm;
import org.savevm.api.analyze.ForeignSectionReaders;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.InternalSnapshots;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.api.machine.FrozenRamBlock;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamSnapshot;
import org.savevm.api.migration.GuestControl;
import org.savevm.snapshot.LiveSave;
import org.savevm.snapshot.SnapshotException;
import org.savevm.snapshot.SnapshotListing;
import org.savevm.snapshot.SnapshotService;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * QEMU 7.2's save_snapshot / load_snapshot / delete_snapshot / hmp_info_snapshots with the bdrv_all_* walks of
 * block/snapshot.c, over the machine's drives. The VM state stream is the one whole-stream save of the core
 * ({@link SaveVm#saveAll}), written into the VM state drive's {@link InternalSnapshots#writeVmState} area and read
 * back by {@link SaveVm#load}. Synchronized: QEMU runs these in the main loop, one at a time.
 */
public final class SnapshotManager implements SnapshotService {
    /** QEMU's QEMUSnapshotInfo.name is char[256]. */
    static final int MAX_NAME_BYTES = 255;

    /**
     * Bytes per write into / read from the VM state area: many whole clusters at once (a 64 KiB stream buffer
     * straddles two clusters with every write, and each partial cluster costs the image an extra write).
     */
    private static final int VM_STATE_BUFFER = 4 << 20;

    private static final DateTimeFormatter AUTO_NAME = DateTimeFormatter.ofPattern("'vm-'yyyyMMddHHmmss");

    private final SaveVm saveVm;
    private final Supplier<List<BlockDrive>> drives;
    private final Supplier<List<RamBlock>> ramBlocks;
    private final GuestControl guest;
    private final Supplier<MigrationSettings> settings;
    private final LongSupplier vmClockNs;
    private final Clock wallClock;
    /** Reads past device sections no handler here loads (a snapshot QEMU took); none unless set. */
    private volatile Supplier<Optional<ForeignSectionReaders>> foreignReaders = Optional::empty;

    /**
     * @param drives    the machine's drives in QEMU's bdrv_next order (the order given on the command line)
     * @param settings  the migration capabilities and parameters in force (QEMU's savevm uses the current ones)
     * @param vmClockNs the guest's virtual clock (QEMU_CLOCK_VIRTUAL), recorded in the snapshot
     * @param wallClock the date of the snapshot and, in its zone, the automatic name
     */
    public SnapshotManager(SaveVm saveVm, Supplier<List<BlockDrive>> drives, GuestControl guest,
            Supplier<MigrationSettings> settings, LongSupplier vmClockNs, Clock wallClock) {
        this(saveVm, drives, List::of, guest, settings, vmClockNs, wallClock);
    }

    /** @param ramBlocks the machine's RAM blocks (a live savevm freezes them) */
    public SnapshotManager(SaveVm saveVm, Supplier<List<BlockDrive>> drives, Supplier<List<RamBlock>> ramBlocks,
            GuestControl guest, Supplier<MigrationSettings> settings, LongSupplier vmClockNs, Clock wallClock) {
        this.ramBlocks = ramBlocks;
        this.saveVm = saveVm;
        this.drives = drives;
        this.guest = guest;
        this.settings = settings;
        this.vmClockNs = vmClockNs;
        this.wallClock = wallClock;
    }

    /** A drive of the operation and whether the default set includes it (bdrv_all_snapshots_includes_bs). */
    private record Target(BlockDrive drive, boolean included) {
        String name() {
            return drive.name();
        }

        Optional<InternalSnapshots> snapshots() {
            return canSnapshot(drive) ? drive.image().internalSnapshots() : Optional.empty();
        }
    }

    /** bdrv_can_snapshot: writable and a format with internal snapshots. */
    static boolean canSnapshot(BlockDrive d) {
        return !d.readOnly() && !d.image().readOnly() && d.image().internalSnapshots().isPresent();
    }

    /** bdrv_all_get_snapshot_devices: every drive (included when writable), or exactly the named ones. */
    private List<Target> targets(Optional<List<String>> devices) throws SnapshotException {
        List<BlockDrive> all = drives.get();
        List<Target> out = new ArrayList<>();
        if (devices.isEmpty()) {
            for (BlockDrive d : all) {
                out.add(new Target(d, !d.readOnly()));
            }
            return out;
        }
        for (String name : devices.get()) {
            BlockDrive found = null;
            for (BlockDrive d : all) {
                if (d.name().equals(name)) {
                    found = d;
                    break;
                }
            }
            if (found == null) {
                throw new SnapshotException("No block device node '" + name + "'");
            }
            out.add(new Target(found, true));
        }
        return out;
    }

    /** bdrv_all_can_snapshot. */
    private static void checkCanSnapshot(List<Target> targets) throws SnapshotException {
        for (Target t : targets) {
            if (t.included() && !canSnapshot(t.drive())) {
                throw new SnapshotException("Device '" + t.name() + "' is writable but does not support snapshots");
            }
        }
    }

    /** bdrv_snapshot_find: by id first, then by name. */
    static Optional<SnapshotInfo> find(InternalSnapshots snapshots, String idOrName) throws IOException {
        List<SnapshotInfo> list = snapshots.list();
        for (SnapshotInfo s : list) {
            if (s.id().equals(idOrName)) {
                return Optional.of(s);
            }
        }
        for (SnapshotInfo s : list) {
            if (s.name().equals(idOrName)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** bdrv_all_has_snapshot: on every included drive. */
    private static boolean hasSnapshot(List<Target> targets, String name) throws IOException {
        for (Target t : targets) {
            if (!t.included()) {
                continue;
            }
            // a drive without snapshots (raw) has none: QEMU's -ENOTSUP also ends in "not on all disks"
            Optional<InternalSnapshots> s = t.snapshots();
            if (s.isEmpty() || find(s.get(), name).isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** bdrv_all_delete_snapshot: on every included drive that has it; the first failure stops. */
    private static void deleteAll(List<Target> targets, String name) throws IOException {
        for (Target t : targets) {
            if (!t.included()) {
                continue;
            }
            InternalSnapshots s = t.snapshots().orElseThrow();
            Optional<SnapshotInfo> found = find(s, name);
            if (found.isPresent()) {
                try {
                    s.delete(found.get().id());
                } catch (IOException e) {
                    throw new SnapshotException("Could not delete snapshot '" + name + "' on '" + t.name() + "': "
                            + e.getMessage(), e);
                }
            }
        }
    }

    /** bdrv_all_find_vmstate_bs. */
    private static Target vmStateTarget(List<Target> targets, Optional<String> vmstate) throws SnapshotException {
        for (Target t : targets) {
            boolean capable = t.included() && canSnapshot(t.drive());
            if (vmstate.isPresent()) {
                if (vmstate.get().equals(t.name())) {
                    if (capable) {
                        return t;
                    }
                    throw new SnapshotException("vmstate block device '" + vmstate.get()
                            + "' does not support snapshots");
                }
            } else if (capable) {
                return t;
            }
        }
        throw new SnapshotException(vmstate.isPresent()
                ? "vmstate block device '" + vmstate.get() + "' does not exist"
                : "no block device can store vmstate for snapshot");
    }

    /**
     * save_snapshot's checks before anything is written, for savevm and savevm --live: every disk can snapshot, the
     * name is valid, an older snapshot of the name is deleted (or refused without overwrite), the VM state disk, and
     * qemu_savevm_state's refusal of block migration (checked before the guest stops: it would be resumed at once).
     */
    private Target prepareSave(List<Target> targets, Optional<String> tag, boolean overwrite, Optional<String> vmstate)
            throws IOException {
        checkCanSnapshot(targets);
        if (tag.isPresent()) {
            checkName(tag.get());
            if (overwrite) {
                deleteAll(targets, tag.get());
            } else if (hasSnapshot(targets, tag.get())) {
                throw new SnapshotException("Snapshot '" + tag.get() + "' already exists in one or more devices");
            }
        }
        Target vmTarget = vmStateTarget(targets, vmstate);
        if (settings.get().capability("block")) {
            throw new SnapshotException("Block migration and snapshots are incompatible");
        }
        return vmTarget;
    }

    /**
     * The snapshot on every included disk (the VM state size on the VM state disk only); a snapshot on only some
     * disks is removed again, as save_snapshot does. The date in microseconds, as QEMU records it.
     */
    private void createOnAll(List<Target> targets, Target vmTarget, String name, long vmStateSize, Instant now,
            long vmClock) throws IOException {
        int dateNanos = now.getNano() / 1000 * 1000;
        try {
            for (Target t : targets) {
                if (t == vmTarget || t.included()) {
                    createOn(t, name, t == vmTarget ? vmStateSize : 0, now.getEpochSecond(), dateNanos, vmClock);
                }
            }
        } catch (IOException e) {
            try {
                deleteAll(targets, name);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    @Override
    public synchronized String save(Optional<String> tag, boolean overwrite, Optional<String> vmstate,
            Optional<List<String>> devices) throws IOException {
        List<Target> targets = targets(devices);
        Target vmTarget = prepareSave(targets, tag, overwrite, vmstate);
        MigrationSettings s = settings.get();
        boolean wasRunning = guest.running();
        guest.stop();
        List<AutoCloseable> holds = new ArrayList<>();
        try {
            for (Target t : targets) {
                holds.add(t.drive().hold("snapshot"));
            }
            Instant now = wallClock.instant();
            long vmClock = vmClockNs.getAsLong();
            String name = tag.orElseGet(() -> ZonedDateTime.ofInstant(now, wallClock.getZone()).format(AUTO_NAME));
            InternalSnapshots vmSnapshots = vmTarget.snapshots().orElseThrow();
            long vmStateSize;
            try (MigrationOutput out = new MigrationOutput(new VmStateChannels.Writer(vmSnapshots), VM_STATE_BUFFER)) {
                saveVm.saveAll(out, s, Long.MAX_VALUE);
                vmStateSize = out.position();
            }
            createOnAll(targets, vmTarget, name, vmStateSize, now, vmClock);
            return name;
        } finally {
            release(holds);
            if (wasRunning) {
                guest.start();
            }
        }
    }

    @Override
    public synchronized LiveSave saveLive(Optional<String> tag, boolean overwrite, Optional<String> vmstate,
            Optional<List<String>> devices) throws IOException {
        long start = System.nanoTime();
        List<Target> targets = targets(devices);
        Target vmTarget = prepareSave(targets, tag, overwrite, vmstate);
        MigrationSettings s = settings.get();
        if (s.capability("postcopy-ram")) {
            throw new SnapshotException("Postcopy and live snapshots are incompatible");
        }
        boolean wasRunning = guest.running();
        List<AutoCloseable> holds = new ArrayList<>();
        List<FrozenRamBlock> frozen = new ArrayList<>();
        long pauseStart = System.nanoTime();
        guest.stop();
        boolean paused = true;
        long pause = 0;
        try {
            for (Target t : targets) {
                holds.add(t.drive().hold("snapshot"));
            }
            // the instant: the disks' writes wait from here until the snapshot is created on them
            for (Target t : targets) {
                if (t == vmTarget || t.included()) {
                    holds.add(t.drive().holdWrites());
                }
            }
            Instant now = wallClock.instant();
            long vmClock = vmClockNs.getAsLong();
            String name = tag.orElseGet(() -> ZonedDateTime.ofInstant(now, wallClock.getZone()).format(AUTO_NAME));
            InternalSnapshots vmSnapshots = vmTarget.snapshots().orElseThrow();
            long vmStateSize;
            try (MigrationOutput out = new MigrationOutput(new VmStateChannels.Writer(vmSnapshots), VM_STATE_BUFFER)) {
                for (RamBlock b : ramBlocks.get()) {
                    frozen.add(b.freeze());
                }
                List<RamBlock> views = List.copyOf(frozen);
                MigrationContext context = new MigrationContext(s);
                context.publish(RamSnapshot.class, () -> views);
                try (SaveVm.Outgoing outgoing = saveVm.beginSave(out, context, SaveVm.BeforeSetup.NONE)) {
                    outgoing.captureDeviceState();
                    pause = System.nanoTime() - pauseStart;
                    paused = false;
                    if (wasRunning) {
                        guest.start();
                    }
                    while (!outgoing.iterate()) {
                        // RAM as of the instant, while the guest runs
                    }
                    outgoing.complete();
                }
                vmStateSize = out.position();
            }
            createOnAll(targets, vmTarget, name, vmStateSize, now, vmClock);
            long copied = 0;
            for (FrozenRamBlock f : frozen) {
                copied += f.copiedPages();
            }
            return new LiveSave(name, pause, System.nanoTime() - start, copied);
        } finally {
            for (FrozenRamBlock f : frozen) {
                f.close();
            }
            // the write holds were taken last: released first
            for (int i = holds.size() - 1; i >= 0; i--) {
                try {
                    holds.get(i).close();
                } catch (Exception e) {
                    // a hold's release does not fail
                }
            }
            if (paused && wasRunning) {
                guest.start();
            }
        }
    }

    private static void createOn(Target t, String name, long vmStateSize, long dateSeconds, int dateNanos,
            long vmClock) throws IOException {
        try {
            t.snapshots().orElseThrow().create(name, vmStateSize, dateSeconds, dateNanos, vmClock, -1);
        } catch (IOException e) {
            throw new SnapshotException("Could not create snapshot '" + name + "' on '" + t.name() + "': "
                    + e.getMessage(), e);
        }
    }

    private static void checkName(String name) throws SnapshotException {
        if (name.isEmpty()) {
            throw new SnapshotException("snapshot name must not be empty");
        }
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new SnapshotException("snapshot name longer than " + MAX_NAME_BYTES + " bytes");
        }
    }

    private static void release(List<AutoCloseable> holds) {
        for (AutoCloseable h : holds) {
            try {
                h.close();
            } catch (Exception e) {
                System.getLogger(SnapshotManager.class.getName()).log(System.Logger.Level.WARNING,
                        "releasing a drive: " + e.getMessage());
            }
        }
    }

    @Override
    public synchronized List<String> load(String tag, Optional<String> vmstate, Optional<List<String>> devices)
            throws IOException {
        List<Target> targets = targets(devices);
        checkCanSnapshot(targets);
        if (!hasSnapshot(targets, tag)) {
            throw new SnapshotException("Snapshot '" + tag + "' does not exist in one or more devices");
        }
        Target vmTarget = vmStateTarget(targets, vmstate);
        InternalSnapshots vmSnapshots = vmTarget.snapshots().orElseThrow();
        SnapshotInfo sn = find(vmSnapshots, tag).orElseThrow(
                () -> new SnapshotException("Snapshot '" + tag + "' does not exist in one or more devices"));
        if (sn.vmStateSize() == 0) {
            // QEMU 7.2's text, double space included
            throw new SnapshotException("This is a disk-only snapshot. Revert to it  offline using qemu-img");
        }
        // hmp_loadvm: stop first, start again only after a successful load
        boolean wasRunning = guest.running();
        guest.stop();
        List<AutoCloseable> holds = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        try {
            for (Target t : targets) {
                holds.add(t.drive().hold("snapshot"));
            }
            for (Target t : targets) {
                if (!t.included()) {
                    continue;
                }
                try {
                    t.snapshots().orElseThrow().revert(tag);
                } catch (IOException e) {
                    throw new SnapshotException("Could not load snapshot '" + tag + "' on '" + t.name() + "': "
                            + e.getMessage(), e);
                }
            }
            MigrationContext context = new MigrationContext(settings.get());
            publishForeignSections(context, vmSnapshots, sn);
            try (MigrationInput in = new MigrationInput(
                    new VmStateChannels.Reader(vmSnapshots, sn.id(), sn.vmStateSize()), VM_STATE_BUFFER)) {
                saveVm.load(in, context, IncomingCommands.NONE);
            } catch (IOException e) {
                throw new SnapshotException("Error while loading VM state of snapshot '" + tag + "' from '"
                        + vmTarget.name() + "': " + e.getMessage(), e);
            }
            context.find(LoadReport.class).flatMap(LoadReport::warning).ifPresent(warnings::add);
        } finally {
            release(holds);
        }
        if (wasRunning) {
            guest.start();
        }
        return warnings;
    }

    /**
     * Where the reader of foreign sections comes from: loadvm then goes past the device sections of a snapshot that
     * no handler here loads (one QEMU took has dozens: cpu, apic, PCI devices, ...), decoded through the vmdesc
     * trailer at the end of the snapshot's VM state, and names them in its warnings, as QEMU's loader cannot.
     */
    public void readForeignSectionsWith(Supplier<Optional<ForeignSectionReaders>> readers) {
        this.foreignReaders = readers;
    }

    private void publishForeignSections(MigrationContext context, InternalSnapshots vm, SnapshotInfo sn)
            throws SnapshotException {
        Optional<ForeignSectionReaders> readers = foreignReaders.get();
        if (readers.isEmpty()) {
            return;
        }
        ForeignSectionReaders.PositionalReader at = (dst, position) -> {
            if (position >= sn.vmStateSize()) {
                return -1;
            }
            int len = (int) Math.min(dst.remaining(), sn.vmStateSize() - position);
            int n = vm.readVmState(sn.id(), position, dst.slice(dst.position(), len));
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        };
        try {
            readers.get().forStream(at, sn.vmStateSize()).ifPresent(f -> context.publish(
                    org.savevm.api.ForeignSections.class, f));
        } catch (IOException e) {
            throw new SnapshotException("Error while loading VM state of snapshot '" + sn.name() + "': its vmdesc"
                    + " trailer cannot be read: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void delete(String tag, Optional<List<String>> devices) throws IOException {
        List<Target> targets = targets(devices);
        checkCanSnapshot(targets);
        deleteAll(targets, tag);
    }

    @Override
    public synchronized SnapshotListing list() throws IOException {
        List<Target> targets = targets(Optional.empty());
        Target vmTarget = vmStateTarget(targets, Optional.empty());
        List<SnapshotInfo> table = vmTarget.snapshots().orElseThrow().list();
        Map<String, List<SnapshotInfo>> perDisk = new LinkedHashMap<>();
        boolean any = false;
        for (BlockDrive d : drives.get()) {
            if (!canSnapshot(d)) {
                continue;
            }
            List<SnapshotInfo> l = d.image().internalSnapshots().orElseThrow().list();
            if (!l.isEmpty()) {
                any = true;
                perDisk.put(d.name(), new ArrayList<>(l));
            }
        }
        if (!any) {
            return new SnapshotListing(false, List.of(), List.of());
        }
        List<SnapshotInfo> global = new ArrayList<>();
        for (SnapshotInfo sn : table) {
            if (hasSnapshot(targets, sn.name())) {
                global.add(sn);
                for (List<SnapshotInfo> l : perDisk.values()) {
                    l.removeIf(x -> x.name().equals(sn.name()));
                }
            }
        }
        List<SnapshotListing.Partial> partial = new ArrayList<>();
        perDisk.forEach((device, l) -> {
            if (!l.isEmpty()) {
                partial.add(new SnapshotListing.Partial(device, l));
            }
        });
        return new SnapshotListing(true, global, partial);
    }
}
