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
import org.savevm.api.vmstate.VMStateInfo;
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

    /**
     * From a vmdesc object with {@code vmsd_name}, {@code version}, {@code fields}, {@code subsections}. The
     * JSON's shape is checked before it is used (objects where objects belong, arrays of objects, one shape
     * per field name): a refusal names the path of the offending member, e.g. {@code fields[3].struct}.
     */
    public VMStateDescription<GenericState> fromVmdesc(JsonNode entry) throws IOException {
        try {
            return vmdesc(List.of(object(entry, "")), Function.identity(), null, "").descriptor();
        } catch (IllegalArgumentException e) {
            throw refused("vmdesc", e);
        }
    }

    /**
     * The descriptor builders' own contract checks (a subsection whose name does not extend its parent's, a
     * negative size, ...) refuse what the JSON asks for: a refused input, not a bug (found by
     * VmdescJsonFuzzTest). A JDK IllegalArgumentException stays a bug and is not caught here.
     */
    private static IOException refused(String what, IllegalArgumentException e) {
        if (org.savevm.stream.ProgrammingErrors.is(e)) {
            throw e;
        }
        return new IOException(what + " JSON does not make a VMState descriptor: "
                + org.savevm.stream.Printable.escape(e.getMessage()), e);
    }

    /**
     * {@code scope} picks the state the fields live in; {@code parentScope} is non-null for a
     * subsection: it is needed when its child state exists in the parent's state. {@code where} is the
     * JSON path of the first variant, for messages.
     */
    private Built vmdesc(List<JsonNode> variants, Function<GenericState, GenericState> scope,
            Function<GenericState, GenericState> parentScope, String where) throws IOException {
        JsonNode first = variants.get(0);
        String name = text(first, "vmsd_name", where);
        int version = integer(first, "version", where);
        VMStateDescription.Builder<GenericState> b = VMStateDescription.builder(name, GenericState.class)
                .version(version).minimumVersion(0);
        if (parentScope != null) {
            b.needed(s -> parentScope.apply(s).get(name) instanceof GenericState);
        }
        long wire = 0;
        long objects = 1; // the state the fields are decoded into
        JsonNode fields = first.get("fields");
        if (fields != null) {
            List<JsonNode> list = objects(fields, join(where, "fields"));
            Map<String, Integer> suffixed = suffixedBases(list);
            // one field name, one shape: two fields under one name share one value in the decoded state
            Map<String, String> shapes = new HashMap<>();
            Map<String, String> kinds = new HashMap<>();
            for (int i = 0; i < list.size();) {
                JsonNode f = list.get(i);
                String fieldWhere = join(where, "fields[" + i + "]");
                String key = text(f, "name", fieldWhere);
                int run = 1;
                if (f.has("index")) {
                    while (i + run < list.size() && key.equals(text(list.get(i + run), "name",
                            join(where, "fields[" + (i + run) + "]"))) && list.get(i + run).has("index")) {
                        run++;
                    }
                }
                BuiltField built = vmdescField(list.subList(i, i + run), key, suffixed, scope, where, i);
                wire = saturated(wire + built.wire());
                objects = saturated(objects + built.objects());
                boolean composite = run > 1 || f.has("array_len")
                        || ("struct".equals(f.path("type").asText()) && f.has("struct"));
                String shape = composite ? "array/struct " + i : "scalar";
                String before = shapes.putIfAbsent(key, shape);
                if (before != null && (!before.equals("scalar") || !shape.equals("scalar"))) {
                    throw new IOException(fieldWhere + ": field name '" + key + "' is used by an earlier field too, "
                            + "and one of them is an array or struct (an element that lost its \"index\"?)");
                }
                if (!composite) {
                    // scalars of one name share one value: they must decode to one kind of value (a uint8 and
                    // a raw buffer under one name made the second read the first's Integer as byte[])
                    String kind = extraMembers(f).isEmpty() ? GenericInfos.valueKind(f.path("type").asText()) : "raw bytes";
                    String kindBefore = kinds.putIfAbsent(key, kind);
                    if (kindBefore != null && !kindBefore.equals(kind)) {
                        throw new IOException(fieldWhere + ": field name '" + key + "' is used by an earlier field "
                                + "too, which decodes as " + kindBefore + ", this one as " + kind);
                    }
                }
                b.field(built.field());
                i += run;
            }
        }
        Map<String, List<JsonNode>> subs = new LinkedHashMap<>();
        Map<String, String> subWhere = new HashMap<>();
        for (int vi = 0; vi < variants.size(); vi++) {
            JsonNode v = variants.get(vi);
            JsonNode s = v.get("subsections");
            if (s != null) {
                String listWhere = join(vi == 0 ? where : where + "<variant " + vi + ">", "subsections");
                List<JsonNode> list = objects(s, listWhere);
                for (int k = 0; k < list.size(); k++) {
                    String at = listWhere + "[" + k + "]";
                    String subName = text(list.get(k), "vmsd_name", at);
                    subs.computeIfAbsent(subName, x -> new ArrayList<>()).add(list.get(k));
                    subWhere.putIfAbsent(subName, at);
                }
            }
        }
        for (Map.Entry<String, List<JsonNode>> e : subs.entrySet()) {
            String subName = e.getKey();
            Built sub = vmdesc(e.getValue(), s -> GenericAccess.child(scope.apply(s), subName), scope,
                    subWhere.get(subName));
            // a subsection may come again and again (QEMU's peek loop reads each one that follows), each time
            // decoding its values afresh: what one occurrence makes is paid by its header and its fields' bytes
            long header = 2 + subName.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 4;
            checkPaid(subWhere.get(subName), "subsection '" + subName + "'", 1, sub.objects() - 1,
                    saturated(sub.wire() + header));
            b.subsection(sub.descriptor());
        }
        return new Built(b.build(), wire, objects);
    }

    /**
     * A descriptor built from JSON with what one decode of it costs: {@code wire}, the bytes it reads from the
     * stream (subsections are optional and count nothing), and {@code objects}, the values and states the
     * decode materialises in the {@link GenericState} (subsections not counted: each is checked on its own).
     */
    private record Built(VMStateDescription<GenericState> descriptor, long wire, long objects) {
    }

    private record BuiltField(VMStateField<GenericState> field, long wire, long objects) {
    }

    /**
     * Materialised objects a repeated part of a descriptor may make beyond {@link #OBJECTS_PER_WIRE_BYTE} per
     * stream byte: a short array of empty structs is fine, 888,888 of them are not.
     */
    static final long FREE_OBJECTS = 64;
    /** Values and states one stream byte may pay for (a struct of one uint8 in a struct makes 3 per byte). */
    static final long OBJECTS_PER_WIRE_BYTE = 8;

    /**
     * Memory bounded by the bytes the stream carries: {@code count} repeats of something that materialises
     * {@code objects} values and states and reads {@code wire} bytes each may make at most
     * {@link #FREE_OBJECTS} objects more than {@link #OBJECTS_PER_WIRE_BYTE} per byte read. An array whose
     * elements read nothing (raw fields of size 0, structs without fields) would otherwise fill the heap
     * from a few bytes of JSON: 888,888 decoded states, 342 MB, from a 392-byte vmdesc entry (found by
     * VmdescJsonFuzzTest).
     */
    private static void checkPaid(String where, String what, long count, long objects, long wire)
            throws IOException {
        long made = saturated((double) count * objects);
        long paid = saturated(FREE_OBJECTS + (double) count * OBJECTS_PER_WIRE_BYTE * wire);
        if (made > paid) {
            throw new IOException(where + ": " + what + " would materialise " + made + " values from "
                    + saturated((double) count * wire) + " stream bytes (at most " + FREE_OBJECTS + " + "
                    + OBJECTS_PER_WIRE_BYTE + " per byte)");
        }
    }

    /** {@code v} as a long, at most Long.MAX_VALUE / 4 (sums of such values cannot overflow). */
    private static long saturated(double v) {
        return v >= Long.MAX_VALUE / 4 ? Long.MAX_VALUE / 4 : (long) v;
    }

    private BuiltField vmdescField(List<JsonNode> elements, String key, Map<String, Integer> suffixed,
            Function<GenericState, GenericState> scope, String where, int firstIndex) throws IOException {
        JsonNode f = elements.get(0);
        String fieldWhere = join(where, "fields[" + firstIndex + "]");
        String name = key;
        Matcher m = SUFFIX.matcher(key);
        if (m.matches() && suffixed.getOrDefault(m.group(1), 0) > 1) {
            name = m.group(1);
        }
        String type = text(f, "type", fieldWhere);
        long size = integer(f, "size", fieldWhere);
        int n = elements.size() > 1 ? elements.size() : f.has("array_len") ? integer(f, "array_len", fieldWhere) : 1;
        bound(fieldWhere, key, n, size);
        boolean struct = "struct".equals(type) && f.has("struct");
        VMStateField.Builder<GenericState> b = VMStateField.builder(name);
        long wire;
        long objects;
        if (struct) {
            List<JsonNode> structs = new ArrayList<>();
            for (int k = 0; k < elements.size(); k++) {
                structs.add(object(elements.get(k).get("struct"), join(where, "fields[" + (firstIndex + k) + "]")
                        + ".struct"));
            }
            Built element = vmdesc(structs, Function.identity(), null, fieldWhere + ".struct");
            wire = element.wire();
            objects = element.objects();
            b.struct(element.descriptor(), (int) size);
        } else {
            String extra = extraMembers(f);
            VMStateInfo<?> info = extra.isEmpty() ? GenericInfos.forType(type) : GenericInfos.raw(type, extra);
            wire = GenericInfos.wireBytes(info, size);
            objects = 1;
            b.info(info, (int) size);
        }
        boolean array = elements.size() > 1 || f.has("array_len");
        if (array) {
            checkPaid(fieldWhere, "field '" + key + "': " + n + " elements", n, objects, wire);
            wire = saturated((double) n * wire);
            objects = saturated(1 + (double) n * objects); // the list too
        }
        if (elements.size() > 1 || f.has("array_len")) {
            b.array(n);
        }
        if (elements.size() > 1) {
            b.fieldExists((s, v) -> true); // keeps QEMU's one-object-per-element vmdesc form
        }
        b.access(new GenericAccess(key, scope, array, struct));
        return new BuiltField(b.build(), wire, objects);
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
        try {
            return dump(d, Function.identity(), null);
        } catch (IllegalArgumentException e) {
            throw refused("-dump-vmstate", e);
        }
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
                bound("", fname, 1, size);
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

    private void bound(String where, String field, long n, long size) throws IOException {
        if (n < 0 || size < 0 || n * size > maxFieldBytes) {
            throw new IOException((where.isEmpty() ? "" : where + ": ") + "field '" + field + "': " + n
                    + " elements of " + size + " bytes are outside 0.." + maxFieldBytes + " bytes");
        }
    }

    /** {@code where} then {@code member}: the JSON path of a member, for messages. */
    private static String join(String where, String member) {
        return where.isEmpty() ? member : where + "." + member;
    }

    /** {@code n} itself when it is a JSON object; refused naming {@code where} otherwise. */
    private static JsonNode object(JsonNode n, String where) throws IOException {
        if (n == null || !n.isObject()) {
            throw new IOException((where.isEmpty() ? "the entry" : where) + ": expected a JSON object, found "
                    + kind(n));
        }
        return n;
    }

    /** The elements of {@code n}, which must be an array of objects. */
    private static List<JsonNode> objects(JsonNode n, String where) throws IOException {
        if (!n.isArray()) {
            throw new IOException(where + ": expected an array of objects, found " + kind(n));
        }
        List<JsonNode> list = new ArrayList<>(n.size());
        for (int i = 0; i < n.size(); i++) {
            list.add(object(n.get(i), where + "[" + i + "]"));
        }
        return list;
    }

    private static String kind(JsonNode n) {
        return n == null ? "nothing" : n.isMissingNode() ? "nothing" : n.getNodeType().toString().toLowerCase()
                + (n.isContainerNode() ? "" : " " + abbreviate(n));
    }

    private static String text(JsonNode n, String key) throws IOException {
        return text(n, key, "");
    }

    private static String text(JsonNode n, String key, String where) throws IOException {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual()) {
            throw new IOException((where.isEmpty() ? "" : where + ": ") + "JSON object lacks string \"" + key
                    + "\": " + abbreviate(n));
        }
        return v.asText();
    }

    private static int integer(JsonNode n, String key) throws IOException {
        return integer(n, key, "");
    }

    private static int integer(JsonNode n, String key, String where) throws IOException {
        JsonNode v = n.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IOException((where.isEmpty() ? "" : where + ": ") + "JSON object lacks integer \"" + key
                    + "\": " + abbreviate(n));
        }
        return v.asInt();
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
}
