package org.savevm.migration.commands;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.api.settings.MigrationCapabilities;
import org.savevm.api.settings.MigrationParameters;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;

/** {@code info-migrate}: query-migrate, and with options the capabilities and parameters. */
@Component(service = SavevmCommand.class)
public final class InfoMigrateCommand implements SavevmCommand {
    private final MigrationManager manager;

    @Activate
    public InfoMigrateCommand(@Reference MigrationManager manager) {
        this.manager = manager;
    }

    @Override
    public String name() {
        return "info-migrate";
    }

    @Override
    public String summary() {
        return "show the migration status (query-migrate), capabilities or parameters";
    }

    @Override
    public String usage() {
        return "info-migrate [--json] [--capabilities] [--parameters]\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        boolean json = false;
        boolean caps = false;
        boolean params = false;
        for (String a : args) {
            switch (a) {
                case "--json" -> json = true;
                case "--capabilities" -> caps = true;
                case "--parameters" -> params = true;
                default -> {
                    err.print(usage());
                    return 2;
                }
            }
        }
        Map<String, Object> shown;
        if (caps || params) {
            shown = new LinkedHashMap<>();
            if (caps) {
                Map<String, Object> c = new LinkedHashMap<>();
                for (String name : MigrationCapabilities.ALL) {
                    c.put(name, manager.config().capabilities().contains(name) ? "on" : "off");
                }
                shown.put("capabilities", c);
            }
            if (params) {
                Map<String, Object> ps = new LinkedHashMap<>();
                manager.config().parameters().forEach((k, v) -> ps.put(k, MigrationParameters.spec(k).display(v)));
                ps.putAll(manager.config().textParameters());
                shown.put("parameters", ps);
            }
        } else {
            shown = manager.info().toQmp();
            if (manager.outgoing().isEmpty()) {
                manager.incomingMigration().flatMap(IncomingMigration::loadReport).ifPresent(r -> {
                    // the destination's side of issue 13: what the load received, next to query-migrate's members
                    Map<String, Object> load = new LinkedHashMap<>();
                    load.put("vmdesc-checked", r.vmdescChecked() ? "yes" : "no (the stream had no vmdesc trailer)");
                    load.put("not-received", r.notReceived().isEmpty() ? "none" : String.join(", ", r.notReceived()));
                    shown.put("load", load);
                });
            }
        }
        out.print(json ? Json.pretty(shown) + "\n" : InfoFormat.hmp(shown));
        return 0;
    }
}
