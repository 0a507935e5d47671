package org.savevm.core.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SaveVm;
import org.savevm.api.SavevmCommand;
import org.savevm.stream.MigrationOutput;

/** {@code save-state FILE}: the whole save sequence into a file (like QEMU's qemu_savevm_state). */
@Component(service = SavevmCommand.class)
public final class SaveStateCommand implements SavevmCommand {
    private final SaveVm saveVm;

    @Activate
    public SaveStateCommand(@Reference SaveVm saveVm) {
        this.saveVm = saveVm;
    }

    @Override
    public String name() {
        return "save-state";
    }

    @Override
    public String summary() {
        return "write the whole machine state (live handlers and devices) to a file in QEMU 7.2 format";
    }

    @Override
    public String usage() {
        return "save-state [options] FILE\n" + StateFileOptions.USAGE_OPTIONS
                + "  --max-rounds N           complete after N iteration rounds even if live handlers are not done\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        StateFileOptions o;
        try {
            o = StateFileOptions.parse(args, true);
        } catch (IllegalArgumentException e) {
            err.println("save-state: " + e.getMessage());
            err.print(usage());
            return 2;
        }
        long rounds;
        long size;
        try (MigrationOutput mo = new MigrationOutput(FileChannel.open(Path.of(o.file), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING))) {
            rounds = saveVm.saveAll(mo, o.settings, o.maxRounds);
            size = mo.position();
        } catch (IOException e) {
            err.println("save-state: " + e.getMessage());
            return 1;
        }
        out.println("saved " + size + " bytes to " + o.file + " (" + rounds + " iteration rounds)");
        return 0;
    }
}
