package org.savevm.snapshot.internal.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.snapshot.SnapshotService;

/** {@code snapshot-delete}: QMP snapshot-delete run to completion: delete TAG on DEVICES */
@Component(service = SavevmCommand.class)
public final class SnapshotDeleteCommand implements SavevmCommand {
    private final SnapshotService snapshots;

    @Activate
    public SnapshotDeleteCommand(@Reference SnapshotService snapshots) {
        this.snapshots = snapshots;
    }

    @Override
    public String name() {
        return "snapshot-delete";
    }

    @Override
    public String summary() {
        return "QMP snapshot-delete run to completion: delete TAG on DEVICES";
    }

    @Override
    public String usage() {
        return "snapshot-delete --tag TAG --devices DEV[,DEV]...\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        return SnapshotCommands.job(snapshots, 'D', args, err, usage());
    }
}
