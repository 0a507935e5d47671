package org.savevm.vmstate.internal.json;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateField;
import org.savevm.api.vmstate.VMStateFlags;

/**
 * QEMU 7.2's {@code -dump-vmstate} text (dump_vmstate_json_to_file): two-space indentation, one
 * member per line, devices keyed by type name. VALIDATE entries (MUST_EXIST) are left out, as QEMU
 * does; a descriptor without fields or subsections has no "Fields"/"Subsections" entry. Devices are
 * sorted by type name (QEMU's order is its class hash order).
 */
public final class DumpVmstateWriter {
    private final StringBuilder out = new StringBuilder();

    private DumpVmstateWriter() {
    }

    public static String dump(String machineName, Collection<? extends VMStateDescription<?>> descriptions) {
        Map<String, VMStateDescription<?>> byType = new TreeMap<>(Comparator.naturalOrder());
        for (VMStateDescription<?> d : descriptions) {
            byType.putIfAbsent(d.deviceType(), d);
        }
        DumpVmstateWriter w = new DumpVmstateWriter();
        w.out.append("{\n");
        w.out.append("  \"vmschkmachine\": {\n");
        w.out.append("    \"Name\": ").append(quote(machineName)).append('\n');
        w.out.append("  },\n");
        boolean first = true;
        for (Map.Entry<String, VMStateDescription<?>> e : byType.entrySet()) {
            if (!first) {
                w.out.append(",\n");
            }
            first = false;
            VMStateDescription<?> d = e.getValue();
            w.line(2, quote(e.getKey()) + ": {\n");
            w.line(4, "\"Name\": " + quote(e.getKey()) + ",\n");
            w.line(4, "\"version_id\": " + d.version() + ",\n");
            w.line(4, "\"minimum_version_id\": " + d.minimumVersion() + ",\n");
            w.vmsd(d, 4, false);
            w.out.append('\n');
            w.line(2, "}");
        }
        w.out.append("\n}\n");
        return w.out.toString();
    }

    private void line(int indent, String text) {
        out.append(" ".repeat(indent)).append(text);
    }

    private void vmsd(VMStateDescription<?> d, int indent, boolean subsection) {
        line(indent, subsection ? "{\n" : "\"Description\": {\n");
        indent += 2;
        line(indent, "\"name\": " + quote(d.name()) + ",\n");
        line(indent, "\"version_id\": " + d.version() + ",\n");
        line(indent, "\"minimum_version_id\": " + d.minimumVersion());
        if (!d.fields().isEmpty()) {
            out.append(",\n");
            line(indent, "\"Fields\": [\n");
            boolean first = true;
            for (VMStateField<?> f : d.fields()) {
                if (f.has(VMStateFlags.MUST_EXIST)) {
                    continue;
                }
                if (!first) {
                    out.append(",\n");
                }
                field(f, indent + 2);
                first = false;
            }
            out.append('\n');
            line(indent, "]");
        }
        List<? extends VMStateDescription<?>> subs = d.subsections();
        if (!subs.isEmpty()) {
            out.append(",\n");
            line(indent, "\"Subsections\": [\n");
            boolean first = true;
            for (VMStateDescription<?> s : subs) {
                if (!first) {
                    out.append(",\n");
                }
                vmsd(s, indent + 2, true);
                first = false;
            }
            out.append('\n');
            line(indent, "]");
        }
        out.append('\n');
        line(indent - 2, "}");
    }

    private void field(VMStateField<?> f, int indent) {
        line(indent, "{\n");
        indent += 2;
        line(indent, "\"field\": " + quote(f.name()) + ",\n");
        line(indent, "\"version_id\": " + f.versionId() + ",\n");
        line(indent, "\"field_exists\": " + (f.fieldExists() != null) + ",\n");
        line(indent, "\"size\": " + dumpSize(f));
        if (f.vmsd() != null) {
            out.append(",\n");
            vmsd(f.vmsd(), indent, false);
        }
        out.append('\n');
        line(indent - 2, "}");
    }

    /**
     * QEMU prints field->size: the element size, or for fields over a nested descriptor (struct, tmp,
     * queue, gtree value) sizeof its C struct, which a Java field may leave to the descriptor's
     * {@link VMStateDescription#qemuStructSize()}.
     */
    static int dumpSize(VMStateField<?> f) {
        if (f.size() == 0 && f.vmsd() != null) {
            return f.vmsd().qemuStructSize();
        }
        return f.size();
    }

    /** QEMU prints names with %s unescaped; we escape only what would break the JSON. */
    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
