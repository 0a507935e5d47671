package org.savevm.vmstate.internal.json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateField;
import org.savevm.stream.json.JsonText;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Builds descriptors over {@link GenericState} from QEMU's JSON: a vmdesc entry (what one stream
 * carried, with types and byte sizes) or a -dump-vmstate description (field versions, sizes, no
 * types). Sizes and counts in the JSON are bounded like stream values.
 */
public final class JsonDescriptors {
    private static final Pattern SUFFIX = Pattern.compile("(.+)\\[(\\d+)\\]");
    private final long maxFieldBytes;

    public JsonDescriptors(long maxFieldBytes) {
        this.maxFieldBytes = maxFieldBytes;
    }

    // ------------------------------------------------------------ vmdesc

    /** From a vmdesc object with {@code vmsd_name}, {@code version}, {@code fields}, {@code subsections}. */
    public VMStateDescription<GenericState> fromVmdesc(JsonNode entry) throws IOException {
        return vmdesc(List.of(entry), Function.identity(), null);
    }

    /**
     * {@code scope} picks the state the fields live in; {@code parentScope} is non-null for a
     * subsection: it is needed when its child state exists in the parent's state.
     */
    private VMStateDescription<GenericState> vmdesc(List<JsonNode> variants, Function<GenericState, GenericState> scope,
            Function<GenericState, GenericState> parentScope) throws IOException {
        JsonNode first = variants.get(0);
        String name = text(first, "vmsd_name");
        int version = integer(first, "version");
        VMStateDescription.Builder<GenericState> b = VMStateDescription.builder(name, GenericState.class)
                .version(version).minimumVersion(0);
        if (parentScope != null) {
            b.needed(s -> parentScope.apply(s).get(name) instanceof GenericState);
        }
        JsonNode fields = first.get("fields");
        if (fields != null) {
            List<JsonNode> list = new ArrayList<>();
            fields.forEach(list::add);
            Map<String, Integer> suffixed = suffixedBases(list);
            for (int i = 0; i < list.size();) {
                JsonNode f = list.get(i);
                String key = text(f, "name");
                int run = 1;
                if (f.has("index")) {
                    while (i + run < list.size() && key.equals(text(list.get(i + run), "name"))
                            && list.get(i + run).has("index")) {
                        run++;
                    }
                }
                b.field(vmdescField(list.subList(i, i + run), key, suffixed, scope));
                i += run;
            }
        }
        Map<String, List<JsonNode>> subs = new LinkedHashMap<>();
        for (JsonNode v : variants) {
            JsonNode s = v.get("subsections");
            if (s != null) {
                for (JsonNode sub : s) {
                    subs.computeIfAbsent(text(sub, "vmsd_name"), k -> new ArrayList<>()).add(sub);
                }
            }
        }
        for (Map.Entry<String, List<JsonNode>> e : subs.entrySet()) {
            String subName = e.getKey();
            b.subsection(vmdesc(e.getValue(), s -> GenericAccess.child(scope.apply(s), subName), scope));
        }
        return b.build();
    }

    private VMStateField<GenericState> vmdescField(List<JsonNode> elements, String key, Map<String, Integer> suffixed,
            Function<GenericState, GenericState> scope) throws IOException {
        JsonNode f = elements.get(0);
        String name = key;
        Matcher m = SUFFIX.matcher(key);
        if (m.matches() && suffixed.getOrDefault(m.group(1), 0) > 1) {
            name = m.group(1);
        }
        String type = text(f, "type");
        long size = integer(f, "size");
        int n = elements.size() > 1 ? elements.size() : f.has("array_len") ? integer(f, "array_len") : 1;
        bound(key, n, size);
        boolean struct = "struct".equals(type) && f.has("struct");
        VMStateField.Builder<GenericState> b = VMStateField.builder(name);
        if (struct) {
            List<JsonNode> structs = new ArrayList<>();
            for (JsonNode e : elements) {
                structs.add(e.get("struct"));
            }
            b.struct(vmdesc(structs, Function.identity(), null), (int) size);
        } else {
            String extra = extraMembers(f);
            b.info(extra.isEmpty() ? GenericInfos.forType(type) : GenericInfos.raw(type, extra), (int) size);
        }
        if (elements.size() > 1 || f.has("array_len")) {
            b.array(n);
        }
        if (elements.size() > 1) {
            b.fieldExists((s, v) -> true); // keeps QEMU's one-object-per-element vmdesc form
        }
        b.access(new GenericAccess(key, scope, elements.size() > 1 || f.has("array_len"), struct));
        return b.build();
    }

    /**
     * Base names that QEMU made unique with {@code [k]}: at least two fields whose suffixes count
     * 0, 1, 2 ... in order (a real name such as {@code cr[2]} does not follow that pattern), mapped to
     * how many there are.
     */
    private static Map<String, Integer> suffixedBases(List<JsonNode> fields) {
        Map<String, Integer> count = new HashMap<>();
        Map<String, Boolean> inOrder = new HashMap<>();
        for (JsonNode f : fields) {
            if (f.has("index")) {
                continue;
            }
            Matcher m = SUFFIX.matcher(f.path("name").asText());
            if (m.matches()) {
                int seen = count.getOrDefault(m.group(1), 0);
                if (!m.group(2).equals(Integer.toString(seen))) {
                    inOrder.put(m.group(1), false);
                }
                count.put(m.group(1), seen + 1);
            }
        }
        inOrder.forEach((base, ok) -> count.remove(base));
        return count;
    }

    /** Members of a vmdesc field object beyond QEMU's own keys, rendered back in compact form. */
    private static String extraMembers(JsonNode f) {
        StringBuilder sb = new StringBuilder();
        for (java.util.Iterator<Map.Entry<String, JsonNode>> it = f.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            switch (e.getKey()) {
            case "name", "array_len", "index", "type", "struct", "size" -> {
            }
            default -> {
                if (sb.length() > 0) {
                    sb.append(", ");
                }
                JsonText.appendQuoted(sb, DuplicateKeys.original(e.getKey()));
                sb.append(": ");
                render(sb, e.getValue());
            }
            }
        }
        return sb.toString();
    }

    private static void render(StringBuilder sb, JsonNode v) {
        if (v.isObject()) {
            sb.append('{');
            boolean first = true;
            for (java.util.Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                JsonText.appendQuoted(sb, DuplicateKeys.original(e.getKey()));
                sb.append(": ");
                render(sb, e.getValue());
            }
            sb.append('}');
        } else if (v.isArray()) {
            sb.append('[');
            for (int i = 0; i < v.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                render(sb, v.get(i));
            }
            sb.append(']');
        } else if (v.isTextual()) {
            JsonText.appendQuoted(sb, v.asText());
        } else {
            sb.append(v.asText());
        }
    }

    // ------------------------------------------------------------ -dump-vmstate

    /** From a -dump-vmstate device object (with "Description") or a bare description. */
    public VMStateDescription<GenericState> fromDump(JsonNode device) throws IOException {
        JsonNode d = device.has("Description") ? device.get("Description") : device;
        return dump(d, Function.identity(), null);
    }

    private VMStateDescription<GenericState> dump(JsonNode d, Function<GenericState, GenericState> scope,
            Function<GenericState, GenericState> parentScope) throws IOException {
        String name = text(d, "name");
        VMStateDescription.Builder<GenericState> b = VMStateDescription.builder(name, GenericState.class)
                .version(integer(d, "version_id")).minimumVersion(integer(d, "minimum_version_id"));
        if (parentScope != null) {
            b.needed(s -> parentScope.apply(s).get(name) instanceof GenericState);
        }
        JsonNode fields = d.get("Fields");
        if (fields != null) {
            Map<String, Integer> seen = new HashMap<>();
            for (JsonNode f : fields) {
                String fname = text(f, "field");
                int k = seen.merge(fname, 1, Integer::sum) - 1;
                String key = k == 0 ? fname : fname + "[" + k + "]";
                long size = integer(f, "size");
                bound(fname, 1, size);
                VMStateField.Builder<GenericState> fb = VMStateField.<GenericState>builder(fname)
                        .version(integer(f, "version_id"));
                boolean struct = f.has("Description");
                if (struct) {
                    fb.struct(dump(f.get("Description"), Function.identity(), null), (int) size);
                } else {
                    fb.info(GenericInfos.raw("buffer"), (int) size);
                }
                fb.access(new GenericAccess(key, scope, false, struct));
                b.field(fb.build());
            }
        }
        JsonNode subs = d.get("Subsections");
        if (subs != null) {
            for (JsonNode s : subs) {
                String subName = text(s, "name");
                b.subsection(dump(s, st -> GenericAccess.child(scope.apply(st), subName), scope));
            }
        }
        return b.build();
    }

    // ------------------------------------------------------------ helpers

    private void bound(String field, long n, long size) throws IOException {
        if (n < 0 || size < 0 || n * size > maxFieldBytes) {
            throw new IOException("field '" + field + "': " + n + " elements of " + size
                    + " bytes are outside 0.." + maxFieldBytes + " bytes");
        }
    }

    private static String text(JsonNode n, String key) throws IOException {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual()) {
            throw new IOException("JSON object lacks string \"" + key + "\": " + abbreviate(n));
        }
        return v.asText();
    }

    private static int integer(JsonNode n, String key) throws IOException {
        JsonNode v = n.get(key);
        if (v == null || !v.canConvertToInt()) {
            throw new IOException("JSON object lacks integer \"" + key + "\": " + abbreviate(n));
        }
        return v.asInt();
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
}
