package org.savevm.snapshot.internal.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.snapshot.SnapshotService;

/** {@code savevm}: save the machine as internal snapshot NAME of every disk (QEMU's HMP savevm); no NAME: vm-YYYYMMDDhhmmss */
@Component(service = SavevmCommand.class)
public final class SavevmSnapshotCommand implements SavevmCommand {
    private final SnapshotService snapshots;

    @Activate
    public SavevmSnapshotCommand(@Reference SnapshotService snapshots) {
        this.snapshots = snapshots;
    }

    @Override
    public String name() {
        return "savevm";
    }

    @Override
    public String summary() {
        return "save the machine as internal snapshot NAME of every disk (QEMU's HMP savevm); no NAME: vm-YYYYMMDDhhmmss";
    }

    @Override
    public String usage() {
        return "savevm [--live] [NAME]   (an older snapshot NAME is replaced; --live: the guest runs meanwhile)\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        return SnapshotCommands.savevm(snapshots, args, out, err, usage());
    }
}
