package org.savevm.analyze.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.savevm.api.vmstate.GenericState;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A decoded device section as JSON, in analyze-migration.py's style: integers as zero-padded hex of
 * their size (a negative signed value followed by its decimal), booleans as booleans, buffers and
 * other raw types as space-separated hex bytes, structs and subsections as nested objects.
 */
final class DeviceFields {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private DeviceFields() {
    }

    /** {@code state} described by the vmdesc object {@code desc} (with "fields" and "subsections"). */
    static ObjectNode render(GenericState state, JsonNode desc) {
        Map<String, JsonNode> fields = new HashMap<>();
        for (JsonNode f : desc.path("fields")) {
            fields.putIfAbsent(f.path("name").asText(), f);
        }
        Map<String, JsonNode> subs = new HashMap<>();
        for (JsonNode s : desc.path("subsections")) {
            subs.putIfAbsent(s.path("vmsd_name").asText(), s);
        }
        ObjectNode o = F.objectNode();
        for (Map.Entry<String, Object> e : state.values().entrySet()) {
            JsonNode f = fields.get(e.getKey());
            if (f == null && e.getValue() instanceof GenericState g && subs.containsKey(e.getKey())) {
                o.set(e.getKey(), render(g, subs.get(e.getKey())));
            } else {
                o.set(e.getKey(), value(e.getValue(), f));
            }
        }
        return o;
    }

    private static JsonNode value(Object v, JsonNode f) {
        String type = f == null ? "" : f.path("type").asText();
        int size = f == null ? 0 : f.path("size").asInt();
        if (v instanceof List<?> list) {
            ArrayNode a = F.arrayNode();
            for (Object x : list) {
                a.add(value(x, f));
            }
            return a;
        }
        if (v instanceof GenericState g) {
            return render(g, f == null ? F.objectNode() : f.path("struct"));
        }
        if (v instanceof Boolean b) {
            return F.booleanNode(b);
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            long n = ((Number) v).longValue();
            if (size < 1 || size > 8) {
                return F.numberNode(n);
            }
            return F.textNode(hex(n, size, type.startsWith("int")));
        }
        if (v instanceof Double d) {
            return F.numberNode(d);
        }
        if (v instanceof byte[] b) {
            return F.textNode(bytes(b));
        }
        if (v == null) {
            return F.nullNode();
        }
        return F.textNode(String.valueOf(v));
    }

    static String hex(long n, int size, boolean signed) {
        long mask = size == 8 ? -1L : (1L << (8 * size)) - 1;
        long u = n & mask;
        String h = "0x" + pad(Long.toHexString(u), 2 * size);
        if (signed) {
            long s = size == 8 ? u : (u << (64 - 8 * size)) >> (64 - 8 * size);
            if (s < 0) {
                return h + " (" + s + ")";
            }
        }
        return h;
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : "0".repeat(width - s.length()) + s;
    }

    static String bytes(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 3);
        for (int i = 0; i < b.length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(Character.forDigit((b[i] >> 4) & 0xf, 16)).append(Character.forDigit(b[i] & 0xf, 16));
        }
        return sb.toString();
    }
}
