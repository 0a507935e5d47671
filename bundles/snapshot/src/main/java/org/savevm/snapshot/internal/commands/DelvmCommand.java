package org.savevm.snapshot.internal.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.snapshot.SnapshotService;

/** {@code delvm}: delete snapshot NAME (id or tag) on every disk (QEMU's HMP delvm) */
@Component(service = SavevmCommand.class)
public final class DelvmCommand implements SavevmCommand {
    private final SnapshotService snapshots;

    @Activate
    public DelvmCommand(@Reference SnapshotService snapshots) {
        this.snapshots = snapshots;
    }

    @Override
    public String name() {
        return "delvm";
    }

    @Override
    public String summary() {
        return "delete snapshot NAME (id or tag) on every disk (QEMU's HMP delvm)";
    }

    @Override
    public String usage() {
        return "delvm NAME\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        return SnapshotCommands.delvm(snapshots, args, out, err, usage());
    }
}
