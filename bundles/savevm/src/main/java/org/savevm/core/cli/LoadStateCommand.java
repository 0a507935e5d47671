package org.savevm.core.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.IncomingCommands;
import org.savevm.api.LoadReport;
import org.savevm.api.MigrationContext;
import org.savevm.api.SaveVm;
import org.savevm.api.SavevmCommand;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.Printable;

/** {@code load-state FILE}: loads a QEMU 7.2 stream from a file into the registered handlers. */
@Component(service = SavevmCommand.class)
public final class LoadStateCommand implements SavevmCommand {
    private final SaveVm saveVm;

    @Activate
    public LoadStateCommand(@Reference SaveVm saveVm) {
        this.saveVm = saveVm;
    }

    @Override
    public String name() {
        return "load-state";
    }

    @Override
    public String summary() {
        return "load machine state from a QEMU 7.2 stream file";
    }

    @Override
    public String usage() {
        return "load-state [options] FILE\n" + StateFileOptions.USAGE_OPTIONS;
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        StateFileOptions o;
        try {
            o = StateFileOptions.parse(args, false);
        } catch (IllegalArgumentException e) {
            err.println("load-state: " + Printable.escape(e.getMessage()));
            err.print(usage());
            return 2;
        }
        long size;
        MigrationContext context = new MigrationContext(o.settings);
        try (MigrationInput in = new MigrationInput(FileChannel.open(Path.of(o.file)))) {
            saveVm.load(in, context, IncomingCommands.NONE);
            size = in.position();
        } catch (IOException e) {
            err.println("load-state: " + Printable.escape(e.getMessage()));
            return 1;
        }
        // registered handlers that got nothing: the load is what the source sent, but say what it lacks
        context.find(LoadReport.class).flatMap(LoadReport::warning)
                .ifPresent(w -> err.println("load-state: warning: " + Printable.escape(w)));
        out.println("loaded " + o.file + " (" + size + " bytes)");
        return 0;
    }
}
