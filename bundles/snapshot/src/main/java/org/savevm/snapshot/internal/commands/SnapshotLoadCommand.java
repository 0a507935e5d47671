package org.savevm.snapshot.internal.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.snapshot.SnapshotService;

/** {@code snapshot-load}: QMP snapshot-load run to completion: revert DEVICES to TAG, VM state from DISK */
@Component(service = SavevmCommand.class)
public final class SnapshotLoadCommand implements SavevmCommand {
    private final SnapshotService snapshots;

    @Activate
    public SnapshotLoadCommand(@Reference SnapshotService snapshots) {
        this.snapshots = snapshots;
    }

    @Override
    public String name() {
        return "snapshot-load";
    }

    @Override
    public String summary() {
        return "QMP snapshot-load run to completion: revert DEVICES to TAG, VM state from DISK";
    }

    @Override
    public String usage() {
        return "snapshot-load --tag TAG --vmstate DISK --devices DEV[,DEV]...\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        return SnapshotCommands.job(snapshots, 'L', args, err, usage());
    }
}
