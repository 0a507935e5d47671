package org.savevm.migration.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.migration.internal.MigrationManager;

/** {@code migrate-cancel}: stops the running migration; the guest keeps running on the source. */
@Component(service = SavevmCommand.class)
public final class CancelCommand implements SavevmCommand {
    private final MigrationManager manager;

    @Activate
    public CancelCommand(@Reference MigrationManager manager) {
        this.manager = manager;
    }

    @Override
    public String name() {
        return "migrate-cancel";
    }

    @Override
    public String summary() {
        return "cancel the running migration";
    }

    @Override
    public String usage() {
        return "migrate-cancel\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        if (!args.isEmpty()) {
            err.print(usage());
            return 2;
        }
        if (!manager.cancel()) {
            out.println("no migration is running");
        }
        return 0;
    }
}
