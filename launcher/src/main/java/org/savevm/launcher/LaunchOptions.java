package org.savevm.launcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The launcher's own options, before the command: {@code [--deploy DIR] [--feature NAME]... [--object SPEC]... [machine options]
 * [COMMAND ARGS...]}. Everything from the first non-option on belongs to the command. The machine options
 * ({@code --ram SIZE}, {@code --disk FILE[,format=..][,id=..]}..., {@code --disk-dirty-rate RATE}) describe the machine
 * as QEMU's command line does, for every command and the shell; they reach the machine bundle as framework
 * properties ({@link #frameworkProperties}), which checks them.
 */
record LaunchOptions(Path deployDir, List<String> features, Map<String, String> machine, List<String> objects,
        List<String> command) {
    /** The machine bundle's framework property names (MachineComponent). */
    static final String RAM_PROPERTY = "savevm.machine.ram";
    /** Where the QMP monitor listens (bundle org.savevm.qmp). */
    static final String QMP_PROPERTY = "savevm.qmp";
    static final String DISKS_PROPERTY = "savevm.machine.disks";
    static final String DISK_RATE_PROPERTY = "savevm.machine.disk-dirty-rate";

    static LaunchOptions parse(String[] args) {
        Path deploy = Path.of("deploy");
        List<String> features = new ArrayList<>(List.of("core"));
        Map<String, String> machine = new LinkedHashMap<>();
        List<String> disks = new ArrayList<>();
        List<String> objects = new ArrayList<>();
        int i = 0;
        while (i < args.length && args[i].startsWith("--")) {
            String opt = args[i];
            if (opt.equals("--")) {
                i++;
                break;
            }
            if (i + 1 >= args.length || !OPTIONS.contains(opt)) {
                throw new IllegalArgumentException((OPTIONS.contains(opt) ? "launcher option '" + opt
                        + "' needs a value" : "unknown launcher option '" + opt + "'") + "\n" + usage());
            }
            String value = args[i + 1];
            switch (opt) {
                case "--deploy" -> deploy = Path.of(value);
                case "--feature" -> {
                    if (!features.contains(value)) {
                        features.add(value);
                    }
                }
                case "--ram" -> machine.put(RAM_PROPERTY, value);
                case "--disk" -> {
                    if (value.contains("\n")) {
                        throw new IllegalArgumentException("--disk: a line break in a drive specification");
                    }
                    disks.add(value);
                }
                case "--disk-dirty-rate" -> machine.put(DISK_RATE_PROPERTY, value);
                case "--object" -> objects.add(value);
                case "--qmp" -> machine.put(QMP_PROPERTY, value);
                default -> throw new IllegalStateException(opt);
            }
            i += 2;
        }
        if (!disks.isEmpty()) {
            machine.put(DISKS_PROPERTY, String.join("\n", disks));
        }
        List<String> command = List.of(args).subList(i, args.length);
        return new LaunchOptions(deploy.toAbsolutePath().normalize(), List.copyOf(features), Map.copyOf(machine),
                List.copyOf(objects), List.copyOf(command));
    }

    private static final List<String> OPTIONS = List.of("--deploy", "--feature", "--ram", "--disk",
            "--disk-dirty-rate", "--object", "--qmp");

    /** What the framework must carry for the machine bundle. */
    Map<String, String> frameworkProperties() {
        return machine;
    }

    /** No command and no QMP monitor: the Gogo shell on the terminal. */
    boolean interactive() {
        return command.isEmpty() && !machine.containsKey(QMP_PROPERTY);
    }

    /** No command but a QMP monitor: no shell; runs until QMP's quit or a signal (QEMU with -qmp and no console). */
    boolean monitorOnly() {
        return command.isEmpty() && machine.containsKey(QMP_PROPERTY);
    }

    static String usage() {
        return "usage: java -jar savevm.jar [--deploy DIR] [--feature NAME]... [--object SPEC]... [--qmp ADDR] [--ram SIZE] [--disk SPEC]... [COMMAND [ARGS...]]\n"
                + "  no COMMAND: interactive Gogo shell (commands in scope 'savevm'; 'help' lists them);\n"
                + "              with --qmp: no shell, the QMP monitor until its 'quit' or SIGTERM\n"
                + "  COMMAND:    run one savevm command and exit with its status ('help' lists them)\n"
                + "  --deploy DIR     bundles dropped here are installed while running (default ./deploy)\n"
                + "  --feature NAME   also install features/NAME.json (core is always installed)\n"
                + "  --object SPEC    create an object first, as QEMU's -object (the object-add command):\n"
                + "                   tls-creds-x509,id=ID,dir=DIR,endpoint=server|client,verify-peer=on|off or\n"
                + "                   authz-list,id=ID,policy=deny,rules.0.match=CN=...,rules.0.policy=allow\n"
                + "  --qmp ADDR       a QMP monitor (QEMU's JSON protocol), as QEMU's -qmp: unix:PATH or tcp:[HOST]:PORT\n"
                + "                   (,server=on,wait=off accepted)\n"
                + "machine options (as QEMU's command line; for every command and the shell):\n"
                + "  --ram SIZE       guest RAM, e.g. 1G (default 16M)\n"
                + "  --disk FILE[,format=raw|qcow2][,id=NAME][,readonly=on][,cache=MODE]\n"
                + "                   a drive (repeatable); id defaults to disk0, disk1, ... (the block section's device name);\n"
                + "                   cache=writeback (default)|none|writethrough|directsync|unsafe as QEMU's\n"
                + "  --disk-dirty-rate RATE  bytes per second the guest writes to its disks while running (default 0)";
    }
}
