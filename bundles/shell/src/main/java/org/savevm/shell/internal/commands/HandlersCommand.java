package org.savevm.shell.internal.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.RegisteredSection;
import org.savevm.api.StateRegistry;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code handlers [--refused]}: the registry's sections in save order (QEMU's SaveStateEntry list). */
@Component
public final class HandlersCommand implements org.savevm.api.SavevmCommand {
    private final StateRegistry registry;

    @Command(name = "handlers", description = "List the registered state handlers in save order.")
    static final class Options {
        @Option(names = {"-r", "--refused"}, description = "also list refused registrations with their reasons")
        boolean refused;
    }

    @Activate
    public HandlersCommand(@Reference StateRegistry registry) {
        this.registry = registry;
    }

    @Override
    public String name() {
        return "handlers";
    }

    @Override
    public String summary() {
        return "list the registered state handlers in save order (section id, idstr, instance, alias, compat, version, priority)";
    }

    @Override
    public String usage() {
        return new CommandLine(new Options()).getUsageMessage(CommandLine.Help.Ansi.OFF).strip();
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        Options options = new Options();
        try {
            new CommandLine(options).parseArgs(args.toArray(String[]::new));
        } catch (ParameterException e) {
            err.println("handlers: " + e.getMessage());
            err.println(usage());
            return 2;
        }
        List<RegisteredSection> sections = registry.sections();
        out.print(HandlersTable.format(sections));
        out.println(sections.size() + " sections");
        if (options.refused) {
            List<String> refused = registry.refused();
            out.println(refused.isEmpty() ? "no refused registrations" : "refused:");
            refused.forEach(r -> out.println("  " + r));
        }
        return 0;
    }
}
