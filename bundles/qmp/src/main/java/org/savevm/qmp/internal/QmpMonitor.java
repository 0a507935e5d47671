package org.savevm.qmp.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.savevm.api.SavevmCommand;
import org.savevm.api.qmp.QmpArgs;
import org.savevm.api.qmp.QmpCommands;
import org.savevm.api.qmp.QmpError;
import org.savevm.api.qmp.QmpEvents;
import org.savevm.api.qmp.QmpHandler;
import org.savevm.api.settings.MigrationFeatures;

/**
 * The QMP monitor (QEMU's {@code -qmp}): listens where the framework property {@value #ADDRESS_PROPERTY} says
 * (the launcher's {@code --qmp}), dispatches to the {@link QmpCommands} every installed bundle registers, and
 * serves the monitor's own commands: {@code qmp_capabilities}, {@code query-version}, {@code query-commands},
 * {@code quit}, and {@code human-monitor-command}, which runs a savevm shell command (HMP's spelling accepted:
 * {@code info snapshots}, {@code migrate_set_capability}) and returns what it printed. While it listens it offers
 * the {@code events} migration capability: MIGRATION events have somewhere to go.
 */
@Component(immediate = true)
public final class QmpMonitor {
    public static final String ADDRESS_PROPERTY = "savevm.qmp";
    /** On the QmpEvents service of a listening monitor: where it listens. */
    public static final String ADDRESS_SERVICE_PROPERTY = "qmp.address";
    /** On the QmpEvents service of a monitor that could not listen: why (the launcher prints it and exits). */
    public static final String ERROR_SERVICE_PROPERTY = "qmp.error";

    private final Map<String, QmpHandler> builtins = Map.of(
            "query-version", (a, e) -> version(a),
            "query-commands", (a, e) -> commandList(a),
            "quit", (a, e) -> quit(a),
            "human-monitor-command", (a, e) -> hmp(a));
    private final List<QmpCommands> sets = new CopyOnWriteArrayList<>();
    private final Map<String, SavevmCommand> shellCommands = new ConcurrentHashMap<>();
    private final BundleContext context;
    private final QmpServer server;
    /** The events capability and the event sink (with the address, or why there is no monitor). */
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    @Activate
    public QmpMonitor(BundleContext context) {
        this.context = context;
        String spec = context.getProperty(ADDRESS_PROPERTY);
        if (spec == null || spec.isBlank()) {
            server = null;
            return;
        }
        QmpServer s = null;
        String error = null;
        try {
            s = QmpServer.open(MonitorAddress.parse(spec.strip()), this::find, greeting());
        } catch (IOException | IllegalArgumentException e) {
            // not thrown at the component runtime (a stack trace): the launcher reads it and says it in one line
            error = e.getMessage();
        }
        server = s;
        Dictionary<String, Object> props = new Hashtable<>();
        if (s != null) {
            props.put(ADDRESS_SERVICE_PROPERTY, spec.strip());
            registrations.add(context.registerService(MigrationFeatures.class,
                    MigrationFeatures.of(Set.of("events"), Set.of()), null));
            registrations.add(context.registerService(QmpEvents.class, s, props));
        } else {
            props.put(ERROR_SERVICE_PROPERTY, error);
            registrations.add(context.registerService(QmpEvents.class, QmpEvents.NONE, props));
        }
    }

    @Deactivate
    void deactivate() throws IOException {
        for (ServiceRegistration<?> r : registrations) {
            r.unregister();
        }
        if (server != null) {
            server.close();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addCommands(QmpCommands commands) {
        sets.add(commands);
    }

    void removeCommands(QmpCommands commands) {
        sets.remove(commands);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addShellCommand(SavevmCommand command) {
        shellCommands.put(command.name(), command);
    }

    void removeShellCommand(SavevmCommand command) {
        shellCommands.remove(command.name(), command);
    }

    private QmpHandler find(String name) {
        QmpHandler h = builtins.get(name);
        if (h != null) {
            return h;
        }
        for (QmpCommands s : sets) {
            h = s.commands().get(name);
            if (h != null) {
                return h;
            }
        }
        return null;
    }

    private Map<String, Object> greeting() {
        return Map.of("QMP", Map.of("version", versionInfo(), "capabilities", List.of()));
    }

    /** QEMU 7.2's version: the stream format and commands this speaks are 7.2's; the package says who speaks. */
    private Map<String, Object> versionInfo() {
        return Map.of("qemu", Map.of("major", 7, "minor", 2, "micro", 0),
                "package", "savevm " + context.getBundle().getVersion());
    }

    private Object version(Map<String, Object> a) throws QmpError {
        QmpArgs.of(a);
        return versionInfo();
    }

    private Object commandList(Map<String, Object> a) throws QmpError {
        QmpArgs.of(a);
        Set<String> names = new TreeSet<>(builtins.keySet());
        names.add("qmp_capabilities");
        for (QmpCommands s : sets) {
            names.addAll(s.commands().keySet());
        }
        List<Object> l = new ArrayList<>();
        for (String n : names) {
            l.add(Map.of("name", n));
        }
        return l;
    }

    /** Replies, tells every client SHUTDOWN as QEMU does, then stops the framework (and so the launcher). */
    private Object quit(Map<String, Object> a) throws QmpError {
        QmpArgs.of(a);
        server.emit("SHUTDOWN", Map.of("guest", false, "reason", "host-qmp-quit"));
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(100); // the reply first
                context.getBundle(0).stop();
            } catch (BundleException | InterruptedException | IllegalStateException e) {
                // already stopping
            }
        }, "qmp-quit");
        t.setDaemon(true);
        t.start();
        return Map.of();
    }

    /** HMP through QMP: a savevm shell command line; its output (and error text) is the reply. */
    private Object hmp(Map<String, Object> a) throws QmpError {
        QmpArgs args = QmpArgs.of(a, "command-line", "cpu-index");
        List<String> words;
        try {
            words = CommandLine.split(args.string("command-line"));
        } catch (IllegalArgumentException e) {
            throw new QmpError(e.getMessage());
        }
        if (words.isEmpty()) {
            return "";
        }
        String name = words.get(0).replace('_', '-');
        List<String> rest = new ArrayList<>(words.subList(1, words.size()));
        if (name.equals("info") && !rest.isEmpty()) {
            name = "info-" + rest.remove(0).replace('_', '-');
            // HMP's info migrate_capabilities / migrate_parameters are options of info-migrate here
            for (String what : List.of("capabilities", "parameters")) {
                if (name.equals("info-migrate-" + what)) {
                    name = "info-migrate";
                    rest.add(0, "--" + what);
                }
            }
        }
        SavevmCommand c = shellCommands.get(name);
        if (c == null) {
            // as HMP names it: the command with its info subcommand
            String typed = words.get(0).equals("info") && words.size() > 1 ? "info " + words.get(1) : words.get(0);
            return "unknown command: '" + typed + "'\r\n";
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            try {
                c.run(List.copyOf(rest), out, out);
            } catch (Exception e) {
                out.println(name + ": " + e.getMessage());
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
