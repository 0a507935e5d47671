package org.savevm.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A two-column table of labels and values, aligned. */
public final class StatsTable {
    private final List<String[]> rows = new ArrayList<>();

    public StatsTable row(String label, Object value) {
        rows.add(new String[] {label, String.valueOf(value)});
        return this;
    }

    public static String mib(Object bytes) {
        return bytes instanceof Number n ? String.format(Locale.ROOT, "%.1f MiB", n.doubleValue() / 1048576) : "-";
    }

    @Override
    public String toString() {
        int w = 0;
        for (String[] r : rows) {
            w = Math.max(w, r[0].length());
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            sb.append(String.format(Locale.ROOT, "  %-" + w + "s  %s%n", r[0], r[1]));
        }
        return sb.toString();
    }
}
