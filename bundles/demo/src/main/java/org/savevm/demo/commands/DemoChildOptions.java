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
    /** Postcopy recovery: a paused destination runs migrate-recover, a paused source migrate -r. */
    boolean recover;
    /** Switch to postcopy once this share (percent) of RAM went out; -1: after the first pass. */
    int postcopyAfter = -1;
    double hotFraction = org.savevm.api.machine.WorkloadSpec.DEFAULT.hotFraction();
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
            if (a.equals("--recover")) {
                o.recover = true;
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
                case "--postcopy-after" -> o.postcopyAfter = parsePercent(v);
                case "--hot-fraction" -> o.hotFraction = parseFraction(v);
                default -> throw new IllegalArgumentException("unexpected argument: " + a);
            }
            i += 2;
        }
        if (o.ram < (1 << 20) || o.ram % RamBlock.TARGET_PAGE_SIZE != 0) {
            throw new IllegalArgumentException("--ram must be a multiple of 4 KiB and at least 1 MiB");
        }
        return o;
    }

    /** 0 … 100. */
    static int parsePercent(String v) {
        int p;
        try {
            p = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--postcopy-after expects a percentage 0..100: " + v);
        }
        if (p < 0 || p > 100) {
            throw new IllegalArgumentException("--postcopy-after expects a percentage 0..100: " + v);
        }
        return p;
    }

    /** (0, 1]. */
    static double parseFraction(String v) {
        double f;
        try {
            f = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--hot-fraction expects a number in (0, 1]: " + v);
        }
        if (!(f > 0 && f <= 1)) {
            throw new IllegalArgumentException("--hot-fraction expects a number in (0, 1]: " + v);
        }
        return f;
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
