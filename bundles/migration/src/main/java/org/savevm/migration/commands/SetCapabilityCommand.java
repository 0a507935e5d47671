package org.savevm.migration.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.migration.internal.MigrationManager;

/** {@code migrate-set-capability NAME on|off} (QEMU's HMP command of that name). */
@Component(service = SavevmCommand.class)
public final class SetCapabilityCommand implements SavevmCommand {
    private final MigrationManager manager;

    @Activate
    public SetCapabilityCommand(@Reference MigrationManager manager) {
        this.manager = manager;
    }

    @Override
    public String name() {
        return "migrate-set-capability";
    }

    @Override
    public String summary() {
        return "switch a migration capability on or off";
    }

    @Override
    public String usage() {
        return "migrate-set-capability NAME on|off\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.size() != 2 || !(args.get(1).equals("on") || args.get(1).equals("off"))) {
            err.print(usage());
            return 2;
        }
        try {
            manager.setCapability(args.get(0), args.get(1).equals("on"));
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println(e.getMessage());
            return e instanceof IllegalArgumentException ? 2 : 1;
        }
        return 0;
    }
}
