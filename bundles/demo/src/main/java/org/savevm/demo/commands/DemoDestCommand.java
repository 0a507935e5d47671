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
import org.savevm.api.SavevmCommand;
import org.savevm.api.machine.Machine;
import org.savevm.demo.GuestSetup;
import org.savevm.demo.HeapPeak;
import org.savevm.demo.MachineSetup;
import org.savevm.api.SaveVm;
import org.savevm.api.migration.Incoming;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationService;
import org.savevm.api.migration.MigrationStatus;

/**
 * {@code demo-dest} (internal, started by {@code demo}): the destination process. Prints JSON lines:
 * {@code listening} with the address, then {@code loaded} with the RAM and device hashes taken before
 * the guest is started.
 */
@Component(service = SavevmCommand.class)
public final class DemoDestCommand implements SavevmCommand {
    private final MigrationService manager;
    private final SaveVm saveVm;
    private final ConfigurationAdmin configAdmin;

    @Activate
    public DemoDestCommand(@Reference MigrationService manager, @Reference SaveVm saveVm,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL) ConfigurationAdmin configAdmin) {
        this.manager = manager;
        this.saveVm = saveVm;
        this.configAdmin = configAdmin;
    }

    /** migrate-recover on a fresh port, from its own thread; the parent learns the address from the event. */
    private static void recoverLater(Incoming m, PrintStream out, PrintStream err) {
        Thread t = new Thread(() -> {
            try {
                String at = m.recover("tcp:127.0.0.1:0");
                Map<String, Object> ev = new LinkedHashMap<>();
                ev.put("event", "recover-listening");
                ev.put("uri", at);
                synchronized (out) {
                    out.println(Json.write(ev));
                    out.flush();
                }
            } catch (java.io.IOException | RuntimeException e) {
                err.println("demo-dest: migrate-recover failed: " + e.getMessage());
            }
        }, "demo-recover");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public String name() {
        return "demo-dest";
    }

    @Override
    public String summary() {
        return "(internal) destination process of the demo";
    }

    @Override
    public String usage() {
        return "demo-dest --ram SIZE --uri LISTEN_URI [--capability NAME]... [--parameter NAME=VALUE]...\n";
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
            err.println("demo-dest: " + e.getMessage());
            return 2;
        }
        Machine machine = MachineSetup.sized(configAdmin, manager::machine, o.ram, 60_000);
        PostcopyVcpu vcpu = new PostcopyVcpu(machine, o.seed);
        Incoming[] self = new Incoming[1];
        java.util.concurrent.atomic.AtomicInteger pauses = new java.util.concurrent.atomic.AtomicInteger();
        Incoming m = manager.incoming(o.uri, false, new MigrationListener() {
            @Override
            public void stateChanged(MigrationStatus status, MigrationInfo info) {
                if (status == MigrationStatus.POSTCOPY_ACTIVE) {
                    vcpu.start();
                } else if (status == MigrationStatus.POSTCOPY_PAUSED) {
                    pauses.incrementAndGet();
                    if (o.recover && self[0] != null) {
                        recoverLater(self[0], out, err);
                    }
                } else if (!status.running()) {
                    vcpu.halt();
                }
            }
        });
        self[0] = m;
        Map<String, Object> listening = new LinkedHashMap<>();
        listening.put("event", "listening");
        listening.put("uri", m.address());
        out.println(Json.write(listening));
        out.flush();
        if (!m.await(o.timeoutSeconds, TimeUnit.SECONDS)) {
            m.cancel();
            m.await(10, TimeUnit.SECONDS);
        }
        Map<String, Object> loaded = new LinkedHashMap<>();
        loaded.put("event", "loaded");
        loaded.put("status", m.status().qemuName());
        loaded.put("finished-epoch-ms", m.finishedEpochMillis());
        loaded.put("load-time", m.info().totalTime());
        loaded.put("bytes", m.info().streamBytes());
        if (m.status() == MigrationStatus.COMPLETED) {
            Machine now = manager.machine().orElse(machine);
            loaded.put("ram-hash", now.ramHash());
            loaded.put("device-hash", GuestSetup.deviceHash(saveVm));
            loaded.put("disk-hashes", GuestSetup.diskHashes(now));
        } else {
            loaded.put("error", m.error());
        }
        vcpu.stop();
        loaded.put("postcopy-pauses", pauses.get());
        loaded.put("guest-running", m.status() == MigrationStatus.COMPLETED);
        if (vcpu.started()) {
            loaded.put("postcopy-vcpu-reads", vcpu.reads());
            if (vcpu.faultLatencyMicros() != null) {
                loaded.put("postcopy-fault-latency-us", vcpu.faultLatencyMicros());
            }
            if (vcpu.failure() != null) {
                loaded.put("postcopy-vcpu-error", vcpu.failure());
            }
        }
        Map<String, Object> qmp = m.info().toQmp();
        for (String k : new String[] {"postcopy-blocktime", "postcopy-vcpu-blocktime"}) {
            if (qmp.containsKey(k)) {
                loaded.put(k, qmp.get(k));
            }
        }
        loaded.put("heap-peak", HeapPeak.bytes());
        loaded.put("heap-max", HeapPeak.max());
        out.println(Json.write(loaded));
        out.flush();
        if (m.status() != MigrationStatus.COMPLETED) {
            return 1;
        }
        // Only a complete load lets the guest run (QEMU's autostart after the incoming migration).
        manager.guest().start();
        return 0;
    }
}
