package org.savevm.migration.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.migration.objects.UserObjects;

/** {@code object-del ID}: QEMU's {@code object_del}. */
@Component(service = SavevmCommand.class)
public final class ObjectDelCommand implements SavevmCommand {
    private final UserObjects objects;

    @Activate
    public ObjectDelCommand(@Reference UserObjects objects) {
        this.objects = objects;
    }

    @Override
    public String name() {
        return "object-del";
    }

    @Override
    public String summary() {
        return "remove an object made with --object / object-add (object_del)";
    }

    @Override
    public String usage() {
        return "object-del ID\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.size() != 1) {
            err.print(usage());
            return 2;
        }
        if (!objects.delete(args.get(0))) {
            err.println("object-del: object '" + args.get(0) + "' not found");
            return 1;
        }
        return 0;
    }
}
