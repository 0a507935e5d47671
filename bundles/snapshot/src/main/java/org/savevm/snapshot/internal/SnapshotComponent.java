package org.savevm.snapshot.internal;

import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.savevm.api.SaveVm;
import org.savevm.api.VirtualClock;
import org.savevm.api.analyze.ForeignSectionReaders;
import org.savevm.api.machine.Machine;
import org.savevm.api.migration.MigrationService;
import org.savevm.snapshot.SnapshotListing;
import org.savevm.snapshot.SnapshotService;

/**
 * The snapshot service of this framework: the core's save and load, the drives of the machine, the guest as the
 * migration orchestrator stops and starts it (and its capabilities, as QEMU's savevm uses the migration's), the
 * virtual clock of the timer bundle when it is there.
 */
@Component(service = SnapshotService.class)
public final class SnapshotComponent implements SnapshotService {
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile VirtualClock clock;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ForeignSectionReaders foreignSections;

    private final SnapshotManager manager;

    @Activate
    public SnapshotComponent(@Reference(name = "saveVm") SaveVm saveVm,
            @Reference(name = "migration") MigrationService migration) {
        this.manager = new SnapshotManager(saveVm,
                () -> migration.machine().map(Machine::drives).orElse(List.of()),
                () -> migration.machine().map(Machine::ramBlocks).orElse(List.of()), migration.guest(),
                migration::settings, () -> {
                    VirtualClock c = clock;
                    return c == null ? 0 : c.nowNs();
                }, Clock.systemDefaultZone());
        manager.readForeignSectionsWith(() -> Optional.ofNullable(foreignSections));
    }

    @Override
    public String save(Optional<String> tag, boolean overwrite, Optional<String> vmstate,
            Optional<List<String>> devices) throws IOException {
        return manager.save(tag, overwrite, vmstate, devices);
    }

    @Override
    public org.savevm.snapshot.LiveSave saveLive(Optional<String> tag, boolean overwrite, Optional<String> vmstate,
            Optional<List<String>> devices) throws IOException {
        return manager.saveLive(tag, overwrite, vmstate, devices);
    }

    @Override
    public List<String> load(String tag, Optional<String> vmstate, Optional<List<String>> devices)
            throws IOException {
        return manager.load(tag, vmstate, devices);
    }

    @Override
    public void delete(String tag, Optional<List<String>> devices) throws IOException {
        manager.delete(tag, devices);
    }

    @Override
    public SnapshotListing list() throws IOException {
        return manager.list();
    }
}
