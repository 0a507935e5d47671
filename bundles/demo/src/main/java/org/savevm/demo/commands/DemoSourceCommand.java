package org.savevm.demo.commands;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.savevm.api.SaveVm;
import org.savevm.api.SavevmCommand;
import org.savevm.api.StateRegistry;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationService;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.Outgoing;
import org.savevm.demo.GuestSetup;
import org.savevm.demo.HeapPeak;
import org.savevm.demo.MachineSetup;

/**
 * {@code demo-source} (internal, started by {@code demo}): fills RAM, runs the workload, migrates, and
 * prints JSON lines: {@code progress} about every 250 ms, then {@code done} with query-migrate and the
 * RAM and device hashes taken with the guest stopped.
 */
@Component(service = SavevmCommand.class)
public final class DemoSourceCommand implements SavevmCommand {
    private static final long PROGRESS_MILLIS = 250;
    /** Full-page writes: the dirty rate in bytes is then the rate of dirtied page bytes. */
    private static final int WRITE_SIZE = RamBlock.TARGET_PAGE_SIZE;

    private final MigrationService manager;
    private final SaveVm saveVm;
    private final ConfigurationAdmin configAdmin;
    private final StateRegistry registry;

    @Activate
    public DemoSourceCommand(@Reference MigrationService manager, @Reference SaveVm saveVm,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL) ConfigurationAdmin configAdmin,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL) StateRegistry registry) {
        this.manager = manager;
        this.saveVm = saveVm;
        this.configAdmin = configAdmin;
        this.registry = registry;
    }

    @Override
    public String name() {
        return "demo-source";
    }

    @Override
    public String summary() {
        return "(internal) source process of the demo";
    }

    @Override
    public String usage() {
        return "demo-source --ram SIZE --fill zero|random|file:PATH [--disk-fill zero|half|random] --dirty-rate RATE --uri URI "
                + "[--capability NAME]... [--parameter NAME=VALUE]...\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        DemoChildOptions o;
        try {
            o = DemoChildOptions.parse(args);
            o.migration.applyTo(manager);
            if (o.uri == null) {
                throw new IllegalArgumentException("--uri is required");
            }
        } catch (IllegalArgumentException e) {
            err.println("demo-source: " + e.getMessage());
            return 2;
        }
        Machine machine = MachineSetup.sized(configAdmin, manager::machine, o.ram, 60_000);
        GuestSetup.fill(machine, o.fill, o.seed);
        for (BlockDrive drive : machine.drives()) {
            GuestSetup.fillDisk(drive, o.diskFill, o.seed);
        }
        WorkloadSpec d = WorkloadSpec.DEFAULT;
        machine.workload().configure(new WorkloadSpec(o.dirtyRate, WRITE_SIZE, o.hotFraction, d.locality(),
                d.zeroShare(), o.seed));
        if (o.dirtyRate > 0) {
            manager.guest().start();
        }
        // A fault run compares the RAM after the failure with this (meaningful with an idle guest).
        String hashBefore = o.hashBefore ? machine.ramHash() : null;
        Map<String, Object> ready = new LinkedHashMap<>();
        ready.put("event", "started");
        ready.put("ram-size", machine.ramSize());
        ready.put("disks", machine.drives().stream().map(x -> x.name() + "=" + x.size()).toList());
        out.println(Json.write(ready));
        out.flush();

        long startEpoch = System.currentTimeMillis();
        boolean postcopy = manager.settings().capability("postcopy-ram");
        Outgoing[] started = new Outgoing[1];
        java.util.concurrent.atomic.AtomicInteger pauses = new java.util.concurrent.atomic.AtomicInteger();
        long switchAt = o.postcopyAfter < 0 ? -1 : machine.ramSize() * o.postcopyAfter / 100;
        Outgoing m = manager.migrate(o.uri, new ProgressPrinter(out) {
            @Override
            public synchronized void pass(long pass, MigrationInfo info) {
                super.pass(pass, info);
                // With postcopy-ram the demo switches after the first full pass, as a user would.
                if (postcopy && switchAt < 0 && pass >= 2 && started[0] != null) {
                    started[0].startPostcopy();
                }
            }

            @Override
            public synchronized void stateChanged(MigrationStatus status, MigrationInfo info) {
                super.stateChanged(status, info);
                if (status == MigrationStatus.POSTCOPY_PAUSED) {
                    pauses.incrementAndGet();
                    if (o.recover && started[0] != null) {
                        resumeLater(started[0], o.uri, err);
                    }
                }
            }

            @Override
            public synchronized void progress(MigrationInfo info) {
                super.progress(info);
                // --postcopy-after: once that share of RAM went out (migrate-start-postcopy mid-pass)
                if (postcopy && switchAt >= 0 && started[0] != null && info.ram() != null
                        && info.ram().transferred() >= switchAt) {
                    started[0].startPostcopy();
                }
            }
        });
        started[0] = m;
        if (!m.await(o.timeoutSeconds, TimeUnit.SECONDS)) {
            m.cancel();
            m.await(30, TimeUnit.SECONDS);
        }
        MigrationInfo info = m.info();
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("event", "done");
        done.put("start-epoch-ms", startEpoch);
        Map<String, Object> qmp = new LinkedHashMap<>(info.toQmp());
        if (info.disk() != null && !qmp.containsKey("disk")) {
            // QEMU's query-migrate drops "disk" once completed; the demo's JSON keeps the block handler's totals
            Map<String, Object> disk = new LinkedHashMap<>();
            disk.put("transferred", info.disk().transferred());
            disk.put("remaining", info.disk().remaining());
            disk.put("total", info.disk().total());
            qmp.put("disk", disk);
        }
        done.put("info", qmp);
        Machine now = manager.machine().orElse(machine);
        done.put("guest-running", manager.guest().running());
        if (info.status() == MigrationStatus.COMPLETED) {
            done.put("ram-hash", now.ramHash());
            done.put("device-hash", GuestSetup.deviceHash(saveVm));
            done.put("disk-hashes", GuestSetup.diskHashes(now));
        } else if (hashBefore != null) {
            manager.guest().stop();
            done.put("ram-intact", hashBefore.equals(now.ramHash()));
        }
        done.put("sections", sections());
        done.put("postcopy-pauses", pauses.get());
        done.put("heap-peak", HeapPeak.bytes());
        done.put("heap-max", HeapPeak.max());
        out.println(Json.write(done));
        out.flush();
        return info.status() == MigrationStatus.COMPLETED ? 0 : 1;
    }

    /**
     * migrate -r on the same address (the demo's relay, which takes it to where the destination's
     * migrate-recover listens); retried while the destination is not ready yet.
     */
    private static void resumeLater(Outgoing m, String uri, PrintStream err) {
        Thread t = new Thread(() -> {
            for (int attempt = 0; attempt < 100; attempt++) {
                try {
                    Thread.sleep(100);
                    m.resume(uri);
                    return;
                } catch (IllegalStateException e) {
                    if (m.status() != MigrationStatus.POSTCOPY_PAUSED) {
                        return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (RuntimeException e) {
                    err.println("demo-source: migrate -r failed: " + e.getMessage());
                    return;
                }
            }
        }, "demo-resume");
        t.setDaemon(true);
        t.start();
    }

    private List<String> sections() {
        StateRegistry r = registry;
        if (r == null) {
            return List.of();
        }
        return r.sections().stream().map(x -> x.idstr() + (x.instanceId() != 0 ? "#" + x.instanceId() : "")).toList();
    }

    /** Prints a progress line at most every 250 ms, and every state change. */
    private static class ProgressPrinter implements MigrationListener {
        private final PrintStream out;
        private long last;

        ProgressPrinter(PrintStream out) {
            this.out = out;
        }

        @Override
        public synchronized void progress(MigrationInfo info) {
            long now = System.nanoTime();
            if (now - last < PROGRESS_MILLIS * 1_000_000L) {
                return;
            }
            last = now;
            print(info);
        }

        @Override
        public synchronized void pass(long pass, MigrationInfo info) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("event", "pass");
            p.put("pass", pass);
            p.put("info", info.toQmp());
            out.println(Json.write(p));
            out.flush();
        }

        @Override
        public synchronized void stateChanged(MigrationStatus status, MigrationInfo info) {
            print(info);
        }

        private void print(MigrationInfo info) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("event", "progress");
            p.put("info", info.toQmp());
            out.println(Json.write(p));
            out.flush();
        }
    }
}
