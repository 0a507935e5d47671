package org.savevm.shell.internal.commands;

import java.util.ArrayList;
import java.util.List;

import org.savevm.api.RegisteredSection;

/** The {@code handlers} table: one row per registered section, in save order, columns aligned. */
final class HandlersTable {
    static final List<String> HEADER = List.of("SECTION", "IDSTR", "INSTANCE", "ALIAS", "COMPAT", "VERSION",
            "PRIORITY", "KIND", "BUNDLE");

    private HandlersTable() {
    }

    static String format(List<RegisteredSection> sections) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(HEADER);
        for (RegisteredSection s : sections) {
            rows.add(List.of(
                    Integer.toString(s.sectionId()),
                    s.idstr(),
                    Integer.toString(s.instanceId()),
                    s.aliasId() < 0 ? "-" : s.aliasId() + " (v<" + s.requiredForVersion() + ")",
                    s.compatIdstr() == null ? "-" : s.compatIdstr() + "/" + s.compatInstanceId(),
                    Integer.toString(s.version()),
                    s.priority().name().toLowerCase() + "(" + s.priority().value() + ")",
                    s.isLive() ? "live" : "descriptor",
                    s.bundle()));
        }
        int[] width = new int[HEADER.size()];
        for (List<String> r : rows) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (List<String> r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < width.length; i++) {
                line.append(i == 0 ? "" : "  ").append(String.format("%-" + width[i] + "s", r.get(i)));
            }
            sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
