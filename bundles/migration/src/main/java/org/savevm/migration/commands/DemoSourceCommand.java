package org.savevm.migration.commands;

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
import org.savevm.api.SavevmCommand;
import org.savevm.api.StateRegistry;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.migration.demo.GuestSetup;
import org.savevm.migration.demo.HeapPeak;
import org.savevm.migration.demo.MachineSetup;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.precopy.MigrationInfo;
import org.savevm.migration.precopy.MigrationListener;
import org.savevm.migration.precopy.MigrationStatus;
import org.savevm.migration.precopy.OutgoingMigration;

/**
 * {@code demo-source} (internal, started by {@code demo}): fills RAM, runs the workload, migrates, and
 * prints JSON lines: {@code progress} about every 250 ms, then {@code done} with query-migrate and the
 * RAM and device hashes taken with the guest stopped.
 */
@Component(service = SavevmCommand.class)
public final class DemoSourceCommand implements SavevmCommand {
    private static final long PROGRESS_MILLIS = 250;
    /** Full-page writes: the dirty rate in bytes is then the rate of dirtied page bytes. */
    private static final int WRITE_SIZE = 4096;

    private final MigrationManager manager;
    private final ConfigurationAdmin configAdmin;
    private final StateRegistry registry;

    @Activate
    public DemoSourceCommand(@Reference MigrationManager manager,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL) ConfigurationAdmin configAdmin,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL) StateRegistry registry) {
        this.manager = manager;
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
        return "demo-source --ram SIZE --fill zero|random|file:PATH --dirty-rate RATE --uri URI "
                + "[--capability NAME]... [--parameter NAME=VALUE]...\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        DemoChildOptions o;
        try {
            o = DemoChildOptions.parse(args);
            o.migration.applyTo(manager.config());
            if (o.uri == null) {
                throw new IllegalArgumentException("--uri is required");
            }
        } catch (IllegalArgumentException e) {
            err.println("demo-source: " + e.getMessage());
            return 2;
        }
        Machine machine = MachineSetup.sized(configAdmin, manager::machine, o.ram, 60_000);
        GuestSetup.fill(machine, o.fill, o.seed);
        WorkloadSpec d = WorkloadSpec.DEFAULT;
        machine.workload().configure(new WorkloadSpec(o.dirtyRate, WRITE_SIZE, d.hotFraction(), d.locality(),
                d.zeroShare(), o.seed));
        if (o.dirtyRate > 0) {
            manager.guest().start();
        }
        // A fault run compares the RAM after the failure with this (meaningful with an idle guest).
        String hashBefore = o.hashBefore ? machine.ramHash() : null;
        Map<String, Object> ready = new LinkedHashMap<>();
        ready.put("event", "started");
        ready.put("ram-size", machine.ramSize());
        out.println(Json.write(ready));
        out.flush();

        long startEpoch = System.currentTimeMillis();
        boolean postcopy = manager.config().capabilities().contains("postcopy-ram");
        OutgoingMigration[] started = new OutgoingMigration[1];
        OutgoingMigration m = manager.migrate(o.uri, new ProgressPrinter(out) {
            @Override
            public synchronized void pass(long pass, MigrationInfo info) {
                super.pass(pass, info);
                // With postcopy-ram the demo switches after the first full pass, as a user would.
                if (postcopy && pass >= 2 && started[0] != null) {
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
        done.put("info", info.toQmp());
        Machine now = manager.machine().orElse(machine);
        done.put("guest-running", manager.guest().running());
        if (info.status() == MigrationStatus.COMPLETED) {
            done.put("ram-hash", now.ramHash());
            done.put("device-hash", GuestSetup.deviceHash(manager.saveVm()));
        } else if (hashBefore != null) {
            manager.guest().stop();
            done.put("ram-intact", hashBefore.equals(now.ramHash()));
        }
        done.put("sections", sections());
        done.put("heap-peak", HeapPeak.bytes());
        done.put("heap-max", HeapPeak.max());
        out.println(Json.write(done));
        out.flush();
        return info.status() == MigrationStatus.COMPLETED ? 0 : 1;
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
        public synchronized void stateChanged(org.savevm.migration.precopy.MigrationStatus status, MigrationInfo info) {
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
