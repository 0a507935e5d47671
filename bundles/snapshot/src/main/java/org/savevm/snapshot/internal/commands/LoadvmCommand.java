package org.savevm.snapshot.internal.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.snapshot.SnapshotService;

/** {@code loadvm}: revert every disk to snapshot NAME (id or tag) and load its VM state (QEMU's HMP loadvm) */
@Component(service = SavevmCommand.class)
public final class LoadvmCommand implements SavevmCommand {
    private final SnapshotService snapshots;

    @Activate
    public LoadvmCommand(@Reference SnapshotService snapshots) {
        this.snapshots = snapshots;
    }

    @Override
    public String name() {
        return "loadvm";
    }

    @Override
    public String summary() {
        return "revert every disk to snapshot NAME (id or tag) and load its VM state (QEMU's HMP loadvm)";
    }

    @Override
    public String usage() {
        return "loadvm NAME\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        return SnapshotCommands.loadvm(snapshots, args, out, err, usage());
    }
}
