package org.savevm.snapshot.internal.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.snapshot.SnapshotService;

/** {@code info-snapshots}: list the internal snapshots of the disks (QEMU's HMP info snapshots) */
@Component(service = SavevmCommand.class)
public final class InfoSnapshotsCommand implements SavevmCommand {
    private final SnapshotService snapshots;

    @Activate
    public InfoSnapshotsCommand(@Reference SnapshotService snapshots) {
        this.snapshots = snapshots;
    }

    @Override
    public String name() {
        return "info-snapshots";
    }

    @Override
    public String summary() {
        return "list the internal snapshots of the disks (QEMU's HMP info snapshots)";
    }

    @Override
    public String usage() {
        return "info-snapshots\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        return SnapshotCommands.info(snapshots, args, out, err, usage());
    }
}
