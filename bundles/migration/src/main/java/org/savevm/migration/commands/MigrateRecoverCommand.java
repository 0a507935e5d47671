package org.savevm.migration.commands;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.migration.internal.MigrationManager;

/** {@code migrate-recover URI}: a postcopy-paused destination listens for the source's {@code migrate -r}. */
@Component(service = SavevmCommand.class)
public final class MigrateRecoverCommand implements SavevmCommand {
    private final MigrationManager manager;

    @Activate
    public MigrateRecoverCommand(@Reference MigrationManager manager) {
        this.manager = manager;
    }

    @Override
    public String name() {
        return "migrate-recover";
    }

    @Override
    public String summary() {
        return "let a postcopy-paused incoming migration listen on tcp:HOST:PORT or unix:PATH for migrate -r";
    }

    @Override
    public String usage() {
        return "migrate-recover URI\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        if (args.size() != 1) {
            err.println("migrate-recover: expects one URI");
            err.print(usage());
            return 2;
        }
        try {
            out.println("postcopy recovery listening on " + manager.recover(args.get(0)));
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("migrate-recover: " + e.getMessage());
            return 2;
        } catch (IllegalStateException | IOException e) {
            err.println("migrate-recover: " + e.getMessage());
            return 1;
        }
    }
}
