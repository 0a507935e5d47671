package org.savevm.migration.commands;

import java.util.Locale;
import java.util.Map;

import org.savevm.api.migration.MigrationInfo;

/** Human-readable forms of query-migrate: HMP's "info migrate" lines and the progress bar text. */
final class InfoFormat {
    private InfoFormat() {
    }

    static double fraction(MigrationInfo i) {
        if (i.ram() == null || i.ram().total() == 0) {
            return i.status().finished() ? 1 : 0;
        }
        return 1.0 - (double) i.ram().remaining() / i.ram().total();
    }

    static String progress(MigrationInfo i) {
        long remaining = i.ram() == null ? 0 : i.ram().remaining();
        long pass = i.ram() == null ? 0 : i.ram().dirtySyncCount();
        return String.format(Locale.ROOT, "%s  sent %s  left %s  %.0f Mbps  pass %d%s", i.status().qemuName(),
                mib(i.streamBytes()), mib(remaining), i.mbps(), pass,
                i.throttlePercent() > 0 ? "  throttle " + i.throttlePercent() + "%" : "");
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /** HMP's layout: "key: value" lines, nested objects indented by their name. */
    static String hmp(Map<String, Object> qmp) {
        StringBuilder sb = new StringBuilder();
        append(sb, "", qmp);
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    private static void append(StringBuilder sb, String prefix, Map<String, Object> m) {
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (e.getValue() instanceof Map<?, ?> sub) {
                append(sb, prefix + e.getKey() + " ", (Map<String, Object>) sub);
            } else {
                sb.append(prefix).append(e.getKey()).append(": ").append(e.getValue()).append('\n');
            }
        }
    }
}
