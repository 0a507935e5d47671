package org.savevm.demo.commands;

import java.util.List;

import org.savevm.api.machine.RamBlock;
import org.savevm.api.migration.MigrationOptions;
import org.savevm.api.migration.Sizes;

/** Options of the demo's two child processes. */
final class DemoChildOptions {
    long ram = 1L << 30;
    String fill = "random";
    long dirtyRate = 50L << 20;
    long seed = 1;
    String diskFill = "half";
    String uri;
    long timeoutSeconds = 900;
    boolean hashBefore;
    final MigrationOptions migration = new MigrationOptions();

    static DemoChildOptions parse(List<String> args) {
        DemoChildOptions o = new DemoChildOptions();
        for (int i = 0; i < args.size();) {
            int next = o.migration.take(args, i);
            if (next >= 0) {
                i = next;
                continue;
            }
            String a = args.get(i);
            if (a.equals("--hash-before")) {
                o.hashBefore = true;
                i++;
                continue;
            }
            String v = MigrationOptions.value(args, i);
            switch (a) {
                case "--ram" -> o.ram = Sizes.parse(v, 0);
                case "--fill" -> o.fill = v;
                case "--disk-fill" -> o.diskFill = v;
                case "--dirty-rate" -> o.dirtyRate = parseRate(v);
                case "--seed" -> o.seed = Long.parseLong(v);
                case "--uri" -> o.uri = v;
                case "--timeout" -> o.timeoutSeconds = Long.parseLong(v);
                default -> throw new IllegalArgumentException("unexpected argument: " + a);
            }
            i += 2;
        }
        if (o.ram < (1 << 20) || o.ram % RamBlock.TARGET_PAGE_SIZE != 0) {
            throw new IllegalArgumentException("--ram must be a multiple of 4 KiB and at least 1 MiB");
        }
        return o;
    }

    /** Bytes per second; {@code 50M}, {@code 50MB/s} and {@code 52428800} all work (suffixes are powers of 1024). */
    static long parseRate(String v) {
        String t = v.trim();
        if (t.endsWith("/s")) {
            t = t.substring(0, t.length() - 2);
        }
        if (t.length() > 1 && (t.endsWith("B") || t.endsWith("b")) && Character.isLetter(t.charAt(t.length() - 2))) {
            t = t.substring(0, t.length() - 1);
        }
        return Sizes.parse(t, 0);
    }
}
