package org.savevm.launcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The launcher's own options, before the command: {@code [--deploy DIR] [--feature NAME]... [COMMAND ARGS...]}.
 * Everything from the first non-option on belongs to the command.
 */
record LaunchOptions(Path deployDir, List<String> features, List<String> objects, List<String> command) {

    static LaunchOptions parse(String[] args) {
        Path deploy = Path.of("deploy");
        List<String> features = new ArrayList<>(List.of("core"));
        List<String> objects = new ArrayList<>();
        int i = 0;
        while (i < args.length && args[i].startsWith("--")) {
            String opt = args[i];
            if (opt.equals("--")) {
                i++;
                break;
            }
            if (i + 1 >= args.length || !(opt.equals("--deploy") || opt.equals("--feature") || opt.equals("--object"))) {
                throw new IllegalArgumentException("unknown launcher option '" + opt + "'\n" + usage());
            }
            if (opt.equals("--object")) {
                objects.add(args[i + 1]);
            } else if (opt.equals("--deploy")) {
                deploy = Path.of(args[i + 1]);
            } else if (!features.contains(args[i + 1])) {
                features.add(args[i + 1]);
            }
            i += 2;
        }
        List<String> command = List.of(args).subList(i, args.length);
        return new LaunchOptions(deploy.toAbsolutePath().normalize(), List.copyOf(features), List.copyOf(objects),
                List.copyOf(command));
    }

    boolean interactive() {
        return command.isEmpty();
    }

    static String usage() {
        return "usage: java -jar savevm.jar [--deploy DIR] [--feature NAME]... [--object SPEC]... [COMMAND [ARGS...]]\n"
                + "  no COMMAND: interactive Gogo shell (commands in scope 'savevm'; 'help' lists them)\n"
                + "  COMMAND:    run one savevm command and exit with its status ('help' lists them)\n"
                + "  --deploy DIR     bundles dropped here are installed while running (default ./deploy)\n"
                + "  --feature NAME   also install features/NAME.json (core is always installed)\n"
                + "  --object SPEC    create an object first, as QEMU's -object (the object-add command):\n"
                + "                   tls-creds-x509,id=ID,dir=DIR,endpoint=server|client,verify-peer=on|off or\n"
                + "                   authz-list,id=ID,policy=deny,rules.0.match=CN=...,rules.0.policy=allow";
    }
}
