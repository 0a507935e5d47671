package org.savevm.snapshot.internal;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.savevm.api.MigrationSettings;
import org.savevm.api.block.BlockImage;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.api.migration.GuestControl;
import org.savevm.core.SaveVmService;
import org.savevm.device.serial.internal.SerialDevice;
import org.savevm.machine.internal.MachineDrive;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.internal.RamHandler;
import org.savevm.registry.internal.HandlerRegistry;
import org.savevm.timer.internal.VirtualClockComponent;
import org.savevm.vmstate.internal.VMStateEngineComponent;

/**
 * The whole chain in one JVM, as the launcher wires it: the simulated machine (RAM written by the guest workload,
 * drives written at a disk dirty rate), the real ram handler, timer and serial device in the real registry, the
 * core's save and load, and the snapshot manager over the machine's drives.
 */
final class TestMachine implements AutoCloseable {
    static final Instant NOW = Instant.parse("2026-12-03T11:43:09.123456789Z");

    final SimulatedMachine machine;
    final VirtualClockComponent clock = new VirtualClockComponent(Map.of());
    final SerialDevice serial = new SerialDevice();
    final SaveVmService saveVm;
    final SnapshotManager snapshots;
    final GuestControl guest;
    MigrationSettings settings = MigrationSettings.DEFAULTS;
    /** Run once by the next guest start, while the guest is still stopped (a live savevm's instant). */
    volatile Runnable beforeStart;

    TestMachine(long ram, long diskDirtyRate, BlockImage... disks) {
        this(ram, diskDirtyRate, Clock.fixed(NOW, ZoneOffset.UTC), disks);
    }

    TestMachine(long ram, long diskDirtyRate, Clock wallClock, BlockImage... disks) {
        this(ram, diskDirtyRate, wallClock, true, disks);
    }

    /** {@code withSerial} false: only ram and timer, the sections a QEMU started with -nodefaults has too. */
    TestMachine(long ram, long diskDirtyRate, Clock wallClock, boolean withSerial, BlockImage... disks) {
        List<MachineDrive> drives = new ArrayList<>();
        for (int i = 0; i < disks.length; i++) {
            drives.add(new MachineDrive("disk" + i, disks[i], disks[i].readOnly()));
        }
        machine = new SimulatedMachine("pc-i440fx-7.2", ram, new WorkloadSpec(16L << 20, 64, 0.1, 0.9, 0.1, 7),
                drives, diskDirtyRate);
        HandlerRegistry registry = new HandlerRegistry();
        registry.add(new RamHandler(machine), "org.savevm.ram");
        registry.add(clock, "org.savevm.timer");
        if (withSerial) {
            registry.add(serial, "org.savevm.device.serial");
        }
        saveVm = new SaveVmService(registry, new VMStateEngineComponent(Map.of()), Map.of());
        guest = new GuestControl() {
            @Override
            public boolean running() {
                return machine.workload().running();
            }

            @Override
            public void stop() {
                machine.workload().pause();
                if (clock.running()) {
                    clock.stop();
                }
            }

            @Override
            public void start() {
                Runnable hook = beforeStart;
                beforeStart = null;
                if (hook != null) {
                    hook.run();
                }
                if (!clock.running()) {
                    clock.start();
                }
                machine.workload().resume();
            }
        };
        snapshots = new SnapshotManager(saveVm, machine::drives, machine::ramBlocks, guest, () -> settings,
                clock::nowNs, wallClock);
        // as the analyze bundle's service does in the framework: loadvm reads past sections it has no handler for
        org.savevm.api.analyze.ForeignSectionReaders foreign = new org.savevm.analyze.internal.VmdescForeignSections(
                new org.savevm.vmstate.internal.json.VMStateJsonComponent(), new VMStateEngineComponent(Map.of()));
        snapshots.readForeignSectionsWith(() -> java.util.Optional.of(foreign));
    }

    /** Lets the guest run until it wrote at least {@code ramBytes} more bytes of RAM (and 1 MiB to its disks). */
    void runGuest(long ramBytes) throws InterruptedException {
        long start = machine.workload().bytesWritten();
        guest.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        long diskStart = machine.workload().diskBytesWritten();
        boolean disks = machine.workload().diskDirtyRate() > 0 && !machine.drives().isEmpty();
        while ((machine.workload().bytesWritten() - start < ramBytes
                || disks && machine.workload().diskBytesWritten() - diskStart < (1 << 20))
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        guest.stop();
    }

    @Override
    public void close() throws Exception {
        guest.stop();
        machine.close();
        clock.deactivate();
    }
}
