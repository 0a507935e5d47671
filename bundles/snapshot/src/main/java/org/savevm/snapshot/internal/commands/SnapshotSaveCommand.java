package org.savevm.snapshot.internal.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.snapshot.SnapshotService;

/** {@code snapshot-save}: QMP snapshot-save run to completion: snapshot TAG of DEVICES, VM state on DISK, an existing TAG refused */
@Component(service = SavevmCommand.class)
public final class SnapshotSaveCommand implements SavevmCommand {
    private final SnapshotService snapshots;

    @Activate
    public SnapshotSaveCommand(@Reference SnapshotService snapshots) {
        this.snapshots = snapshots;
    }

    @Override
    public String name() {
        return "snapshot-save";
    }

    @Override
    public String summary() {
        return "QMP snapshot-save run to completion: snapshot TAG of DEVICES, VM state on DISK, an existing TAG refused";
    }

    @Override
    public String usage() {
        return "snapshot-save --tag TAG --vmstate DISK --devices DEV[,DEV]... [--live]\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        return SnapshotCommands.job(snapshots, 'S', args, out, err, usage());
    }
}
