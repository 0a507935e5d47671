package org.savevm.analyze.internal;

import java.io.PrintStream;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import org.savevm.stream.Printable;

import com.fasterxml.jackson.databind.JsonNode;

/** The human-readable form of a {@link StreamAnalyzer} result. */
public final class AnalysisText {
    /** Raw values longer than this are shortened in text (the JSON form has them whole). */
    private static final int MAX_VALUE_CHARS = 120;

    private AnalysisText() {
    }

    /** {@code analyzed}: the section analyzers' text lines, shown between the sections and the devices. */
    public static void print(JsonNode r, Map<String, List<String>> analyzed, PrintStream out) {
        line(out, "file: " + r.path("file").asText() + " (" + r.path("size").asLong() + " bytes)");
        JsonNode h = r.path("header");
        line(out, "header: magic " + h.path("magic").asText() + " (QEVM), version " + h.path("version").asInt());
        JsonNode c = r.path("configuration");
        if (c.isObject()) {
            line(out, "configuration: at byte " + c.path("offset").asLong() + ", " + c.path("length").asLong()
                    + " bytes, machine type '" + c.path("machine_type").asText() + "'");
            for (Iterator<Map.Entry<String, JsonNode>> it = c.path("subsections").fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                line(out, "  subsection " + e.getKey() + ": " + (e.getValue().isTextual() ? e.getValue().asText()
                        : e.getValue().toString()));
            }
        } else {
            line(out, "configuration: none");
        }
        if (r.has("section_footers")) {
            line(out, "section footers: " + (r.path("section_footers").asBoolean() ? "yes" : "no"));
        }
        line(out, "sections:");
        sections(r.path("sections"), out, "  ");
        for (List<String> lines : analyzed.values()) {
            lines.forEach(l -> line(out, l));
        }
        line(out, "devices:");
        for (Iterator<Map.Entry<String, JsonNode>> it = r.path("devices").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode d = e.getValue();
            if (d.has("not_decoded")) {
                line(out, "  " + e.getKey() + ": " + d.path("raw_length").asLong() + " bytes, not decoded ("
                        + d.path("not_decoded").asText() + ")");
            } else {
                line(out, "  " + e.getKey() + ":");
                fields(d, out, "    ");
            }
        }
        JsonNode v = r.path("vmdesc");
        if (v.path("present").asBoolean()) {
            line(out, "vmdesc: at byte " + v.path("offset").asLong() + ", " + v.path("length").asLong()
                    + " bytes of JSON, " + v.path("devices").asInt() + " devices, page size " + v.path("page_size").asInt());
        } else {
            line(out, "vmdesc: none");
        }
    }

    private static void sections(JsonNode list, PrintStream out, String indent) {
        for (JsonNode s : list) {
            String type = s.path("type").asText();
            switch (type) {
            case "EOF" -> line(out, indent + "EOF      at byte " + s.path("offset").asLong());
            case "COMMAND" -> {
                StringBuilder sb = new StringBuilder(indent + "COMMAND  " + s.path("command").asText() + " at byte "
                        + s.path("offset").asLong() + ", " + s.path("length").asLong() + " bytes");
                for (String k : new String[] {"value", "block", "ranges", "package_length", "target_page_size"}) {
                    if (s.has(k)) {
                        sb.append(", ").append(k).append(' ').append(s.get(k).asText());
                    }
                }
                line(out, sb);
                if (s.has("sections")) {
                    sections(s.path("sections"), out, indent + "  ");
                }
            }
            default -> line(out, String.format("%s%-8s section %d '%s' instance %d version %d at byte %d, %d bytes%s", indent, type,
                    s.path("section_id").asLong(), s.path("idstr").asText(), s.path("instance_id").asLong(),
                    s.path("version").asLong(), s.path("offset").asLong(), s.path("length").asLong(),
                    s.has("raw_length") ? " (not decoded)" : ""));
            }
        }
    }

    private static void fields(JsonNode o, PrintStream out, String indent) {
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                line(out, indent + e.getKey() + ":");
                fields(v, out, indent + "  ");
            } else if (v.isArray() && v.size() > 0 && v.get(0).isObject()) {
                for (int i = 0; i < v.size(); i++) {
                    line(out, indent + e.getKey() + "[" + i + "]:");
                    fields(v.get(i), out, indent + "  ");
                }
            } else {
                line(out, indent + e.getKey() + " = " + shorten(v.isTextual() ? v.asText() : v.toString()));
            }
        }
    }

    /**
     * Every line goes out through here: idstrs, block names, the machine type and decoded strings are the
     * stream's bytes, and a terminal must not act on control sequences among them.
     */
    private static void line(PrintStream out, Object text) {
        out.println(Printable.escape(String.valueOf(text)));
    }

    private static String shorten(String s) {
        return s.length() <= MAX_VALUE_CHARS ? s
                : s.substring(0, MAX_VALUE_CHARS) + "... (" + s.length() + " chars; --json has it whole)";
    }
}
