package org.savevm.migration.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.migration.internal.MigrationManager;

/** {@code migrate-start-postcopy}: switch the running migration to postcopy (capability postcopy-ram). */
@Component(service = SavevmCommand.class)
public final class StartPostcopyCommand implements SavevmCommand {
    private final MigrationManager manager;

    @Activate
    public StartPostcopyCommand(@Reference MigrationManager manager) {
        this.manager = manager;
    }

    @Override
    public String name() {
        return "migrate-start-postcopy";
    }

    @Override
    public String summary() {
        return "switch the running migration to postcopy (needs capability postcopy-ram)";
    }

    @Override
    public String usage() {
        return "migrate-start-postcopy\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        if (!args.isEmpty()) {
            err.print(usage());
            return 2;
        }
        try {
            manager.startPostcopy();
        } catch (IllegalStateException e) {
            err.println(e.getMessage());
            return 1;
        }
        return 0;
    }
}
