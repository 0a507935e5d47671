package org.savevm.vmstate.internal.command;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.RegisteredSection;
import org.savevm.api.SavevmCommand;
import org.savevm.api.StateRegistry;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.vmstate.internal.json.DumpVmstateWriter;

/** {@code dump-vmstate FILE}: QEMU's -dump-vmstate JSON for every registered device descriptor. */
@Component(service = SavevmCommand.class)
public final class DumpVmstateCommand implements SavevmCommand {
    static final String DEFAULT_MACHINE = "pc-i440fx-7.2";
    private final StateRegistry registry;

    @Activate
    public DumpVmstateCommand(@Reference StateRegistry registry) {
        this.registry = registry;
    }

    @Override
    public String name() {
        return "dump-vmstate";
    }

    @Override
    public String summary() {
        return "write QEMU's -dump-vmstate JSON of every registered device";
    }

    @Override
    public String usage() {
        return "dump-vmstate [--machine NAME] FILE   (NAME defaults to " + DEFAULT_MACHINE + "; FILE '-' is stdout)";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        String machine = DEFAULT_MACHINE;
        String file = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--machine") && i + 1 < args.size()) {
                machine = args.get(++i);
            } else if (a.startsWith("-") && !a.equals("-")) {
                err.println("dump-vmstate: unknown option " + a + "\nusage: " + usage());
                return 2;
            } else if (file == null) {
                file = a;
            } else {
                err.println("dump-vmstate: too many arguments\nusage: " + usage());
                return 2;
            }
        }
        if (file == null) {
            err.println("usage: " + usage());
            return 2;
        }
        List<VMStateDescription<?>> descriptions = new ArrayList<>();
        for (RegisteredSection s : registry.sections()) {
            if (s.handler() instanceof DeviceStateHandler<?> d) {
                descriptions.add(d.description());
            }
        }
        String json = DumpVmstateWriter.dump(machine, descriptions);
        if (file.equals("-")) {
            out.print(json);
        } else {
            Files.writeString(Path.of(file), json, StandardCharsets.UTF_8);
            out.println("wrote " + descriptions.size() + " descriptions to " + file);
        }
        return 0;
    }
}
