package org.savevm.migration.qmp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.MigrationUri;
import org.savevm.api.qmp.QmpArgs;
import org.savevm.api.qmp.QmpCommands;
import org.savevm.api.qmp.QmpError;
import org.savevm.api.qmp.QmpEvents;
import org.savevm.api.qmp.QmpHandler;
import org.savevm.api.settings.MigrationCapabilities;
import org.savevm.api.settings.MigrationParameters;
import org.savevm.api.settings.ParameterSpec;
import org.savevm.migration.internal.MigrationManager;

/**
 * The migration commands of QEMU 7.2's QMP schema (qapi/migration.json, qapi/run-state.json) over the orchestrator:
 * {@code migrate}, {@code migrate-incoming}, {@code query-migrate}, {@code migrate_cancel}, capabilities and
 * parameters, postcopy start and recovery, and the run state ({@code stop}, {@code cont}, {@code query-status}).
 * Arguments are checked as QEMU's QAPI visitors check them, with QEMU's texts. While the {@code events}
 * capability is on, every status change of a migration started here is a {@code MIGRATION} event, and each new
 * RAM pass a {@code MIGRATION_PASS} event, as QEMU sends them.
 */
@Component(service = QmpCommands.class)
public final class MigrationQmpCommands implements QmpCommands {
    private final MigrationManager manager;

    private final Map<String, QmpHandler> table;

    @Activate
    public MigrationQmpCommands(@Reference MigrationManager manager) {
        this.manager = manager;
        this.table = Map.copyOf(build());
    }

    @Override
    public Map<String, QmpHandler> commands() {
        return table;
    }

    private Map<String, QmpHandler> build() {
        Map<String, QmpHandler> c = new LinkedHashMap<>();
        c.put("query-migrate", (a, e) -> {
            QmpArgs.of(a);
            MigrationInfo info = manager.info();
            // QEMU answers {} while no migration ever ran here (status none is not shown)
            return info.status() == MigrationStatus.NONE ? Map.of() : info.toQmp();
        });
        c.put("migrate", this::migrate);
        c.put("migrate-incoming", this::incoming);
        c.put("migrate_cancel", (a, e) -> {
            QmpArgs.of(a);
            manager.cancel();
            return Map.of();
        });
        c.put("migrate-set-capabilities", (a, e) -> setCapabilities(QmpArgs.of(a, "capabilities")));
        c.put("query-migrate-capabilities", (a, e) -> {
            QmpArgs.of(a);
            List<Object> l = new ArrayList<>();
            for (String name : MigrationCapabilities.ALL) {
                l.add(Map.of("capability", name, "state", manager.config().capabilities().contains(name)));
            }
            return l;
        });
        c.put("migrate-set-parameters", (a, e) -> setParameters(a));
        c.put("query-migrate-parameters", (a, e) -> {
            QmpArgs.of(a);
            Map<String, Object> p = new LinkedHashMap<>();
            manager.config().parameters().forEach((k, v) -> {
                ParameterSpec spec = MigrationParameters.spec(k);
                p.put(k, spec.kind() == ParameterSpec.Kind.BOOLEAN ? v != 0 : spec.display(v));
            });
            p.putAll(manager.config().textParameters());
            return p;
        });
        c.put("migrate-start-postcopy", (a, e) -> {
            QmpArgs.of(a);
            if (!manager.config().capabilities().contains("postcopy-ram")) {
                throw new QmpError("Enable postcopy with migrate_set_capability before the start of migration");
            }
            run(manager::startPostcopy);
            return Map.of();
        });
        c.put("migrate-recover", (a, e) -> {
            String uri = QmpArgs.of(a, "uri").string("uri");
            try {
                manager.recover(uri);
            } catch (IOException | IllegalStateException | IllegalArgumentException ex) {
                throw new QmpError(ex.getMessage());
            }
            return Map.of();
        });
        c.put("stop", (a, e) -> {
            QmpArgs.of(a);
            if (manager.guest().running()) {
                manager.guest().stop();
                e.emit("STOP", Map.of());
            }
            return Map.of();
        });
        c.put("cont", (a, e) -> {
            QmpArgs.of(a);
            if (manager.running()) {
                throw new QmpError("Migration is not finalized yet");
            }
            if (!manager.guest().running()) {
                manager.guest().start();
                e.emit("RESUME", Map.of());
            }
            return Map.of();
        });
        c.put("query-status", (a, e) -> {
            QmpArgs.of(a);
            boolean running = manager.guest().running();
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("status", running ? "running" : runState());
            s.put("singlestep", false);
            s.put("running", running);
            return s;
        });
        return c;
    }

    /** QEMU's RunState of a stopped guest: what stopped it. */
    private String runState() {
        MigrationStatus st = manager.info().status();
        if (manager.incomingMigration().isPresent() && st.running()) {
            return "inmigrate";
        }
        if (manager.outgoing().isPresent()) {
            if (st == MigrationStatus.COMPLETED) {
                return "postmigrate";
            }
            if (st.running()) {
                return "finish-migrate";
            }
        }
        return "paused";
    }

    private Object migrate(Map<String, Object> a, QmpEvents events) throws QmpError {
        QmpArgs args = QmpArgs.of(a, "uri", "blk", "inc", "detach", "resume");
        String uri = args.string("uri");
        try {
            MigrationUri.parse(uri);
        } catch (IllegalArgumentException ex) {
            throw new QmpError("Parameter 'uri' expects a valid migration protocol");
        }
        boolean blk = args.bool("blk", false);
        boolean inc = args.bool("inc", false);
        if (args.bool("resume", false)) {
            run(() -> manager.resume(uri));
            return Map.of();
        }
        run(() -> manager.migrate(uri, listener(events), blk, inc));
        return Map.of();
    }

    private Object incoming(Map<String, Object> a, QmpEvents events) throws QmpError {
        String uri = QmpArgs.of(a, "uri").string("uri");
        try {
            manager.incoming(uri, true, listener(events));
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            throw new QmpError(e.getMessage());
        }
        return Map.of();
    }

    /** MIGRATION and MIGRATION_PASS events while the {@code events} capability is on (QEMU's migrate_use_events). */
    private MigrationListener listener(QmpEvents events) {
        return new MigrationListener() {
            @Override
            public void stateChanged(MigrationStatus status, MigrationInfo info) {
                if (manager.config().capabilities().contains("events")) {
                    events.emit("MIGRATION", Map.of("status", status.qemuName()));
                }
            }

            @Override
            public void pass(long pass, MigrationInfo info) {
                if (manager.config().capabilities().contains("events")) {
                    events.emit("MIGRATION_PASS", Map.of("pass", pass));
                }
            }
        };
    }

    /** All or nothing, as QEMU checks the whole new set before it applies any. */
    private Object setCapabilities(QmpArgs args) throws QmpError {
        List<?> list = args.list("capabilities");
        Map<String, Boolean> changes = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "capabilities[" + i + "]";
            QmpArgs item = QmpArgs.at(at, QmpArgs.object(list.get(i), at), "capability", "state");
            String name = item.string("capability");
            if (!MigrationCapabilities.ALL.contains(name)) {
                throw new QmpError("Parameter 'capability' does not accept value '" + name + "'");
            }
            changes.put(name, item.bool("state", null));
        }
        Map<String, Boolean> before = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Boolean> ch : changes.entrySet()) {
                before.putIfAbsent(ch.getKey(), manager.config().capabilities().contains(ch.getKey()));
                manager.setCapability(ch.getKey(), ch.getValue());
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            before.forEach((k, v) -> {
                try {
                    manager.config().setCapability(k, v);
                } catch (RuntimeException ignored) {
                    // it held before: restoring it cannot be refused for a new reason that matters here
                }
            });
            throw new QmpError(e.getMessage());
        }
        return Map.of();
    }

    /** Each value as its QAPI type: sizes in bytes, booleans, enum names, strings for the TLS parameters. */
    private Object setParameters(Map<String, Object> a) throws QmpError {
        if (a == null) {
            return Map.of();
        }
        Map<String, String> text = new LinkedHashMap<>();
        for (Map.Entry<String, Object> p : a.entrySet()) {
            String name = p.getKey();
            Object v = p.getValue();
            if (MigrationParameters.isText(name)) {
                // QAPI StrOrNull: null is the empty string (no credentials, no authorization list)
                if (v != null && !(v instanceof String)) {
                    throw new QmpError("Invalid parameter type for '" + name + "', expected: StrOrNull");
                }
                text.put(name, v == null ? "" : (String) v);
                continue;
            }
            ParameterSpec spec;
            try {
                spec = MigrationParameters.spec(name);
            } catch (IllegalArgumentException e) {
                throw new QmpError("Parameter '" + name + "' is unexpected");
            }
            switch (spec.kind()) {
                case BOOLEAN -> {
                    if (!(v instanceof Boolean b)) {
                        throw new QmpError("Invalid parameter type for '" + name + "', expected: boolean");
                    }
                    text.put(name, b ? "on" : "off");
                }
                case ENUM -> {
                    if (!(v instanceof String s)) {
                        throw new QmpError("Invalid parameter type for '" + name + "', expected: string");
                    }
                    if (!spec.choices().contains(s)) {
                        // the QAPI enum visitor's words (the HMP parser names the C field instead)
                        throw new QmpError("Parameter '" + name + "' does not accept value '" + s + "'");
                    }
                    text.put(name, s);
                }
                default -> {
                    // QEMU's input visitor reads every number member as uint64 first, then narrows it
                    if (!(v instanceof Number n) || v instanceof Double || v instanceof Float
                            || v instanceof java.math.BigDecimal) {
                        throw new QmpError("Parameter '" + name + "' expects uint64");
                    }
                    String narrow = QAPI_WIDTH.get(name);
                    if (narrow != null && (n.longValue() < 0
                            || n.longValue() > (narrow.equals("uint8_t") ? 0xffL : 0xffffffffL))) {
                        throw new QmpError("Parameter '" + name + "' expects " + narrow);
                    }
                    // QMP sizes are bytes; the textual form reads a bare number as MiB (HMP)
                    text.put(name, spec.kind() == ParameterSpec.Kind.SIZE ? n.longValue() + "B" : n.toString());
                }
            }
        }
        try {
            manager.trySettings(List.copyOf(manager.config().capabilities()), text);
        } catch (IllegalArgumentException e) {
            throw new QmpError(e.getMessage());
        }
        for (Map.Entry<String, String> t : text.entrySet()) {
            try {
                manager.setParameter(t.getKey(), t.getValue());
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new QmpError(e.getMessage());
            }
        }
        return Map.of();
    }

    /** MigrateSetParameters members narrower than uint64 in QEMU 7.2's schema, and their C type in its error. */
    private static final Map<String, String> QAPI_WIDTH = Map.ofEntries(
            Map.entry("compress-level", "uint8_t"), Map.entry("compress-threads", "uint8_t"),
            Map.entry("decompress-threads", "uint8_t"), Map.entry("throttle-trigger-threshold", "uint8_t"),
            Map.entry("cpu-throttle-initial", "uint8_t"), Map.entry("cpu-throttle-increment", "uint8_t"),
            Map.entry("max-cpu-throttle", "uint8_t"), Map.entry("multifd-channels", "uint8_t"),
            Map.entry("multifd-zlib-level", "uint8_t"), Map.entry("multifd-zstd-level", "uint8_t"),
            Map.entry("x-checkpoint-delay", "uint32_t"));

    /** The orchestrator's refusals (IllegalArgument/IllegalState with QEMU's text) as QMP errors. */
    private static void run(Runnable a) throws QmpError {
        try {
            a.run();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new QmpError(e.getMessage());
        }
    }
}
