package org.savevm.migration.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.migration.internal.MigrationManager;

/** {@code migrate-set-parameter NAME VALUE} (QEMU's HMP command; sizes like 64M, bare sizes in MiB). */
@Component(service = SavevmCommand.class)
public final class SetParameterCommand implements SavevmCommand {
    private final MigrationManager manager;

    @Activate
    public SetParameterCommand(@Reference MigrationManager manager) {
        this.manager = manager;
    }

    @Override
    public String name() {
        return "migrate-set-parameter";
    }

    @Override
    public String summary() {
        return "set a migration parameter (max-bandwidth and downtime-limit apply to a running migration)";
    }

    @Override
    public String usage() {
        return "migrate-set-parameter NAME VALUE\n"
                + "  sizes (max-bandwidth, xbzrle-cache-size) take K/M/G suffixes; a bare number is MiB as in HMP\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.size() != 2) {
            err.print(usage());
            return 2;
        }
        try {
            manager.setParameter(args.get(0), args.get(1));
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        return 0;
    }
}
