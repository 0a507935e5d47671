package org.savevm.core.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.savevm.api.ForeignSections;
import org.savevm.api.IncomingCommands;
import org.savevm.api.LoadReport;
import org.savevm.api.MigrationContext;
import org.savevm.api.SaveVm;
import org.savevm.api.SavevmCommand;
import org.savevm.api.analyze.ForeignSectionReaders;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.Printable;

/**
 * {@code load-state [--skip-unknown] FILE}: loads a QEMU 7.2 stream from a file into the registered handlers; with
 * {@code --skip-unknown}, device sections no handler loads are read past through the file's vmdesc trailer (the
 * analyze bundle's {@link ForeignSectionReaders}) and named, as loadvm does with a snapshot QEMU took.
 */
@Component(service = SavevmCommand.class)
public final class LoadStateCommand implements SavevmCommand {
    private final SaveVm saveVm;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ForeignSectionReaders foreignSections;

    @Activate
    public LoadStateCommand(@Reference SaveVm saveVm) {
        this.saveVm = saveVm;
    }

    /** What DS would inject: for tests outside the framework. */
    public void foreignSectionsForTest(ForeignSectionReaders readers) {
        this.foreignSections = readers;
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
        return "load-state [options] FILE\n" + StateFileOptions.USAGE_OPTIONS
                + "  --skip-unknown           read past device sections no handler here loads (described by the\n"
                + "                           file's vmdesc trailer) and name them, instead of failing at the first\n";
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
        try (FileChannel ch = FileChannel.open(Path.of(o.file)); MigrationInput in = new MigrationInput(ch)) {
            if (o.skipUnknown) {
                ForeignSectionReaders readers = foreignSections;
                if (readers == null) {
                    err.println("load-state: --skip-unknown needs the analyze bundle (org.savevm.analyze)");
                    return 1;
                }
                ForeignSections f = readers.forStream(ch::read, ch.size()).orElse(null);
                if (f == null) {
                    err.println("load-state: " + o.file + " has no vmdesc trailer to describe the sections to skip");
                    return 1;
                }
                context.publish(ForeignSections.class, f);
            }
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
