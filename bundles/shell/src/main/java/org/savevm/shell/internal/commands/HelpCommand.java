package org.savevm.shell.internal.commands;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.savevm.api.SavevmCommand;

/**
 * {@code help [NAME]}: the registered commands with their summaries, or one command's usage. Looks the
 * commands up when run (rather than holding references) so it lists commands of bundles installed later
 * and does not reference its own service.
 */
@Component
public final class HelpCommand implements SavevmCommand {
    private final BundleContext context;

    @Activate
    public HelpCommand(BundleContext context) {
        this.context = context;
    }

    @Override
    public String name() {
        return "help";
    }

    @Override
    public String summary() {
        return "list the savevm commands, or show one command's usage";
    }

    @Override
    public String usage() {
        return "help [COMMAND]\n  without COMMAND: every command with its summary\n  with COMMAND: its usage";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws InvalidSyntaxException {
        Map<String, SavevmCommand> commands = commands();
        if (args.isEmpty()) {
            out.print(CommandList.format(commands));
            return 0;
        }
        if (args.size() > 1) {
            err.println("help: too many arguments\nusage: " + usage());
            return 2;
        }
        SavevmCommand c = commands.get(args.get(0));
        if (c == null) {
            err.println("help: unknown command '" + args.get(0) + "'; commands: " + String.join(", ", commands.keySet()));
            return 2;
        }
        out.println(c.name() + ": " + c.summary());
        out.println("usage: " + c.usage());
        return 0;
    }

    private Map<String, SavevmCommand> commands() throws InvalidSyntaxException {
        Map<String, SavevmCommand> byName = new TreeMap<>();
        for (ServiceReference<SavevmCommand> ref : context.getServiceReferences(SavevmCommand.class, null)) {
            SavevmCommand c = context.getService(ref);
            if (c != null) {
                byName.putIfAbsent(c.name(), c);
                context.ungetService(ref);
            }
        }
        return byName;
    }
}
