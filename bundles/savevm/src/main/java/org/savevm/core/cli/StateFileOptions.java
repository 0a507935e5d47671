package org.savevm.core.cli;

import java.util.ArrayList;
import java.util.List;

import org.savevm.api.MigrationSettings;
import org.savevm.framing.FramingOptions;

/**
 * The options shared by save-state and load-state: the file, the two framing switches and capabilities
 * or parameters by QEMU name.
 */
final class StateFileOptions {
    static final String USAGE_OPTIONS = "  --no-section-footer      no section footers (migration.send-section-footer=off)\n"
            + "  --no-configuration       no configuration section (migration.send-configuration=off)\n"
            + "  --capability NAME        enable a migration capability (repeatable)\n"
            + "  --parameter NAME=VALUE   set a numeric migration parameter (repeatable)\n";

    final String file;
    final MigrationSettings settings;
    final long maxRounds;
    /** load-state: read past device sections without a handler through the file's vmdesc trailer. */
    final boolean skipUnknown;

    private StateFileOptions(String file, MigrationSettings settings, long maxRounds, boolean skipUnknown) {
        this.file = file;
        this.settings = settings;
        this.maxRounds = maxRounds;
        this.skipUnknown = skipUnknown;
    }

    /** Parses the arguments; throws IllegalArgumentException with a message for the user. */
    static StateFileOptions parse(List<String> args, boolean allowRounds) {
        MigrationSettings s = MigrationSettings.DEFAULTS;
        List<String> positional = new ArrayList<>();
        long maxRounds = 1_000_000;
        boolean skipUnknown = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
            case "--no-section-footer":
                s = s.withParameter(FramingOptions.SEND_SECTION_FOOTER, 0);
                break;
            case "--no-configuration":
                s = s.withParameter(FramingOptions.SEND_CONFIGURATION, 0);
                break;
            case "--capability":
                s = s.withCapability(value(args, ++i, a), true);
                break;
            case "--parameter": {
                String kv = value(args, ++i, a);
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--parameter needs NAME=VALUE, got '" + kv + "'");
                }
                try {
                    s = s.withParameter(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--parameter " + kv + ": not a number");
                }
                break;
            }
            case "--max-rounds":
                if (!allowRounds) {
                    throw new IllegalArgumentException("unknown option --max-rounds");
                }
                try {
                    maxRounds = Long.parseLong(value(args, ++i, a));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--max-rounds needs a number");
                }
                break;
            case "--skip-unknown":
                if (allowRounds) {
                    throw new IllegalArgumentException("unknown option --skip-unknown");
                }
                skipUnknown = true;
                break;
            default:
                if (a.startsWith("--")) {
                    throw new IllegalArgumentException("unknown option " + a);
                }
                positional.add(a);
            }
        }
        if (positional.size() != 1) {
            throw new IllegalArgumentException("expected exactly one FILE argument, got " + positional.size());
        }
        return new StateFileOptions(positional.get(0), s, maxRounds, skipUnknown);
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.get(i);
    }
}
