package org.savevm.vmstate.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.savevm.api.vmstate.ElementAccess;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateException;
import org.savevm.api.vmstate.VMStateField;
import org.savevm.api.vmstate.VMStateFlags;
import org.savevm.api.vmstate.VMStateInfo;
import org.savevm.api.vmstate.VMStateInfos;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * QEMU 7.2's VMState interpreter (vmstate_save_state_v / vmstate_load_state and the subsection
 * loops) over the Java descriptor model. Errors name the descriptor path, the field and the offset.
 */
public final class VMStateInterpreter {
    private static final int QEMU_VM_SUBSECTION = 0x05;
    /** What one allocated struct element is charged at least (see checkStructAllocation). */
    static final long STRUCT_ALLOC_MIN_BYTES = 64;

    private final VMStateLimits limits;

    public VMStateInterpreter(VMStateLimits limits) {
        this.limits = limits;
    }

    // ---------------------------------------------------------------- save

    public <T> void save(MigrationOutput out, VMStateDescription<T> d, T state, StringBuilder vmdesc)
            throws IOException {
        saveState(out, d, state, vmdesc == null ? null : new VmdescJson(vmdesc), d.version(), d.name());
        out.checkError();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private <T> void saveState(MigrationOutput out, VMStateDescription<T> d, T s, VmdescJson json, int version,
            String path) throws IOException {
        runHook(d.preSave(), s, path, "pre_save", out.position());
        try {
            if (json != null) {
                json.str("vmsd_name", d.name());
                json.integer("version", version);
                json.startArray("fields");
            }
            for (VMStateField<T> f : d.fields()) {
                if (!f.exists(s, version)) {
                    if (f.has(VMStateFlags.MUST_EXIST)) {
                        throw new VMStateException(path, f.name(), "output state validation failed", out.position());
                    }
                    continue;
                }
                long n = f.elementCount(s);
                long size = f.elementSize(s);
                checkBounds(path, f, n, size, out.position());
                VmdescJson loop = json;
                for (int i = 0; i < n; i++) {
                    descFieldStart(d, f, loop, i, (int) n);
                    long start = out.position();
                    try {
                        Object elem = f.access() == null ? null : f.access().get(s, i);
                        if (elem == null && f.has(VMStateFlags.ARRAY_OF_POINTER)) {
                            out.putByte(VMStateInfos.NULLPTR_MARKER);
                        } else if (f.isStruct()) {
                            if (elem == null) {
                                throw new IOException("struct element " + i + " is null");
                            }
                            VMStateDescription sub = f.vmsd();
                            int v = f.has(VMStateFlags.VSTRUCT) ? f.structVersionId() : sub.version();
                            saveState(out, sub, elem, loop, v, elementPath(path, f, i, n));
                        } else if (VMStateInfos.nestsDescriptor(f.info())) {
                            saveNested(out, f, elem, loop, elementPath(path, f, i, n));
                        } else {
                            ((VMStateInfo) f.info()).put(out, elem, (int) size);
                        }
                    } catch (VMStateException e) {
                        throw e;
                    } catch (IOException | RuntimeException e) {
                        throw wrap(path, f, i, n, e, start);
                    }
                    descFieldEnd(f, loop, out.position() - start);
                    if (loop != null && canCompress(f)) {
                        loop = null;
                    }
                }
            }
            if (json != null) {
                json.endArray();
            }
            saveSubsections(out, d, s, json, path);
        } catch (IOException | RuntimeException e) {
            // QEMU runs post_save also when a field failed; the field's error wins.
            try {
                runHook(d.postSave(), s, path, "post_save", out.position());
            } catch (IOException ignored) {
                e.addSuppressed(ignored);
            }
            throw e;
        }
        runHook(d.postSave(), s, path, "post_save", out.position());
    }

    /** tmp, qtailq and qlist: infos that write a child descriptor themselves (vmdesc keys inline). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private void saveNested(MigrationOutput out, VMStateField<?> f, Object elem, VmdescJson json, String path)
            throws IOException {
        VMStateDescription child = f.vmsd();
        if (elem == null) {
            throw new IOException(f.info().name() + " object is null");
        }
        if (f.info() == VMStateInfos.TMP) {
            saveState(out, child, elem, json, child.version(), path);
            return;
        }
        if (f.info() == VMStateInfos.GTREE) {
            saveTree(out, f, (Map<?, ?>) elem, json, path);
            return;
        }
        int k = 0;
        for (Object e : (List<?>) elem) {
            out.putByte(1);
            saveState(out, child, e, json, child.version(), path + "[" + k++ + "]");
        }
        out.putByte(0);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void loadNested(MigrationInput in, VMStateField<?> f, Object elem, String path) throws IOException {
        VMStateDescription child = f.vmsd();
        if (elem == null) {
            throw new IOException(f.info().name() + " object is null");
        }
        int version = f.versionId();
        if (f.info() == VMStateInfos.TMP) {
            loadState(in, child, elem, version, path);
            return;
        }
        if (f.keyVmsd() != null) {
            checkElementVersion(f.keyVmsd(), version);
        }
        checkElementVersion(child, version);
        if (f.info() == VMStateInfos.GTREE) {
            loadTree(in, f, (Map<Object, Object>) elem, version, path);
            return;
        }
        List<Object> list = (List<Object>) elem;
        long k = 0;
        while (in.getByte() != 0) {
            if (++k > limits.maxElements()) {
                throw new IOException("more than " + limits.maxElements() + " queue elements");
            }
            Object e = f.elementFactory().get();
            loadState(in, child, e, version, path + "[" + (k - 1) + "]");
            list.add(e);
        }
    }

    private static void checkElementVersion(VMStateDescription<?> child, int version) throws IOException {
        if (version > child.version()) {
            throw new IOException(child.name() + " too new: field version " + version + " > " + child.version());
        }
        if (version < child.minimumVersion()) {
            throw new IOException(child.name() + " too old: field version " + version + " < "
                    + child.minimumVersion());
        }
    }

    /** put_gtree: be32 node count, then 0x01 + key + value per node in the map's (the tree's) order, 0x00. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private void saveTree(MigrationOutput out, VMStateField<?> f, Map<?, ?> tree, VmdescJson json, String path)
            throws IOException {
        VMStateDescription keyVmsd = f.keyVmsd();
        VMStateDescription valueVmsd = f.vmsd();
        out.putBe32(tree.size());
        int k = 0;
        for (Map.Entry<?, ?> e : tree.entrySet()) {
            String node = path + "[" + k++ + "]";
            out.putByte(1);
            if (keyVmsd == null) {
                if (!(e.getKey() instanceof Long key)) {
                    throw new IOException("direct gtree key " + e.getKey() + " is not a Long");
                }
                out.putBe64(key);
            } else {
                saveState(out, keyVmsd, e.getKey(), json, keyVmsd.version(), node + ".key");
            }
            if (e.getValue() == null) {
                throw new IOException("gtree value of key " + e.getKey() + " is null");
            }
            saveState(out, valueVmsd, e.getValue(), json, valueVmsd.version(), node);
        }
        out.putByte(0);
    }

    /**
     * get_gtree: the node count is bounded before anything is read, and the 0x01 markers must match it
     * (a surplus marker fails before its node is read). Nodes are put into the map as they load.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private void loadTree(MigrationInput in, VMStateField<?> f, Map<Object, Object> tree, int version, String path)
            throws IOException {
        VMStateDescription keyVmsd = f.keyVmsd();
        VMStateDescription valueVmsd = f.vmsd();
        long countAt = in.position();
        long nnodes = in.getBe32();
        if (nnodes < 0 || nnodes > limits.maxElements()) {
            throw new MigrationStreamException("gtree node count " + nnodes + " outside 0.." + limits.maxElements(),
                    countAt);
        }
        long count = 0;
        while (true) {
            long markerAt = in.position();
            if (in.getByte() == 0) {
                if (count != nnodes) {
                    throw new MigrationStreamException("inconsistent stream when loading the gtree: " + count
                            + " nodes, count said " + nnodes, markerAt);
                }
                return;
            }
            if (++count > nnodes) {
                throw new MigrationStreamException("inconsistent stream when loading the gtree: more than the "
                        + nnodes + " nodes the count said", markerAt);
            }
            String node = path + "[" + (count - 1) + "]";
            Object key;
            if (keyVmsd == null) {
                key = in.getBe64();
            } else {
                key = f.keyFactory().get();
                loadState(in, keyVmsd, key, version, node + ".key");
            }
            Object value = f.elementFactory().get();
            loadState(in, valueVmsd, value, version, node);
            tree.put(key, value);
        }
    }

    private <T> void saveSubsections(MigrationOutput out, VMStateDescription<T> d, T s, VmdescJson json,
            String path) throws IOException {
        boolean opened = false;
        for (VMStateDescription<T> sub : d.subsections()) {
            if (!sub.isNeeded(s)) {
                continue;
            }
            if (json != null) {
                if (!opened) {
                    json.startArray("subsections");
                    opened = true;
                }
                json.startObject(null);
            }
            byte[] name = sub.name().getBytes(StandardCharsets.UTF_8);
            if (name.length > 255) {
                throw new VMStateException(path, null, "subsection name longer than 255 bytes: " + sub.name(),
                        out.position());
            }
            out.putByte(QEMU_VM_SUBSECTION);
            out.putByte(name.length);
            out.putBytes(name);
            out.putBe32(sub.version());
            saveState(out, sub, s, json, sub.version(), path + "/" + lastPart(sub.name()));
            if (json != null) {
                json.endObject();
            }
        }
        if (opened) {
            json.endArray();
        }
    }

    private static <T> void descFieldStart(VMStateDescription<T> d, VMStateField<T> f, VmdescJson json, int i,
            int max) {
        if (json == null) {
            return;
        }
        String name = f.name();
        List<VMStateField<T>> all = d.fields();
        int same = 0;
        int index = 0;
        for (VMStateField<T> g : all) {
            if (g.name().equals(f.name())) {
                if (g == f) {
                    index = same;
                }
                same++;
            }
        }
        if (same > 1) {
            name = name + "[" + index + "]";
        }
        json.startObject(null);
        json.str("name", name);
        if (max > 1) {
            if (canCompress(f)) {
                json.integer("array_len", max);
            } else {
                json.integer("index", i);
            }
        }
        json.str("type", typeName(f));
        if (f.info() instanceof VmdescMembers extra && !extra.vmdescMembers().isEmpty()) {
            json.members(extra.vmdescMembers());
        }
        if (f.has(VMStateFlags.STRUCT)) {
            json.startObject("struct");
        }
    }

    private static void descFieldEnd(VMStateField<?> f, VmdescJson json, long size) {
        if (json == null) {
            return;
        }
        if (f.has(VMStateFlags.STRUCT)) {
            json.endObject();
        }
        json.integer("size", size);
        json.endObject();
    }

    /** The vmdesc {@code type}: struct, vstruct or the info's name. */
    static String typeName(VMStateField<?> f) {
        if (f.has(VMStateFlags.STRUCT)) {
            return "struct";
        }
        if (f.has(VMStateFlags.VSTRUCT)) {
            return "vstruct";
        }
        return f.info() == null ? "unknown" : f.info().name();
    }

    /** QEMU's vmsd_can_compress: an array is described once unless its elements may differ in shape. */
    static boolean canCompress(VMStateField<?> f) {
        if (f.fieldExists() != null) {
            return false;
        }
        if (f.has(VMStateFlags.STRUCT)) {
            for (VMStateField<?> g : f.vmsd().fields()) {
                if (!canCompress(g)) {
                    return false;
                }
            }
            return f.vmsd().subsections().isEmpty();
        }
        return true;
    }

    // ---------------------------------------------------------------- load

    public <T> void load(MigrationInput in, VMStateDescription<T> d, T state, int version) throws IOException {
        loadState(in, d, state, version, d.name());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private <T> void loadState(MigrationInput in, VMStateDescription<T> d, T s, int version, String path)
            throws IOException {
        if (version > d.version()) {
            throw new VMStateException(path, null, "incoming version_id " + version
                    + " is too new for local version_id " + d.version(), in.position());
        }
        if (version < d.minimumVersion()) {
            throw new VMStateException(path, null, "incoming version_id " + version
                    + " is too old for local minimum version_id " + d.minimumVersion(), in.position());
        }
        runHook(d.preLoad(), s, path, "pre_load", in.position());
        for (VMStateField<T> f : d.fields()) {
            boolean exists;
            try {
                exists = f.exists(s, version);
            } catch (RuntimeException e) {
                throw wrap(path, f, 0, 1, e, in.position());
            }
            if (!exists) {
                if (f.has(VMStateFlags.MUST_EXIST)) {
                    throw new VMStateException(path, f.name(), "input validation failed", in.position());
                }
                continue;
            }
            long n = f.elementCount(s);
            long size = f.elementSize(s);
            checkBounds(path, f, n, size, in.position());
            ElementAccess<T> access = f.access();
            if (access != null && n > 0) {
                if (f.has(VMStateFlags.ALLOC)) {
                    boolean structs = f.isStruct() && !f.has(VMStateFlags.ARRAY_OF_POINTER);
                    if (structs) {
                        checkStructAllocation(path, f, n, size, in.position());
                    }
                    if (size != 0 || structs) {
                        access.allocate(s, (int) n, (int) size);
                    }
                } else if (n > access.capacity(s)) {
                    throw new VMStateException(path, f.name(), n + " elements do not fit the " + access.capacity(s)
                            + " the state holds", in.position());
                }
            }
            for (int i = 0; i < n; i++) {
                long start = in.position();
                try {
                    Object elem = access == null ? null : access.get(s, i);
                    if (elem == null && f.has(VMStateFlags.ARRAY_OF_POINTER)) {
                        int marker = in.getByte();
                        if (marker != VMStateInfos.NULLPTR_MARKER) {
                            throw new IOException(String.format(
                                    "NULL pointer element: expected marker 0x30, got 0x%02x", marker));
                        }
                    } else if (f.isStruct()) {
                        if (elem == null) {
                            throw new IOException("struct element " + i + " is null in the state");
                        }
                        VMStateDescription sub = f.vmsd();
                        int v = f.has(VMStateFlags.VSTRUCT) ? f.structVersionId() : sub.version();
                        loadState(in, sub, elem, v, elementPath(path, f, i, n));
                    } else if (VMStateInfos.nestsDescriptor(f.info())) {
                        loadNested(in, f, elem, elementPath(path, f, i, n));
                    } else {
                        VMStateInfo info = f.info();
                        Object value = info.get(in, elem, (int) size);
                        if (info.storesValue() && access != null) {
                            access.set(s, i, value);
                        }
                    }
                } catch (VMStateException e) {
                    throw e;
                } catch (IOException | RuntimeException e) {
                    throw wrap(path, f, i, n, e, start);
                }
            }
        }
        loadSubsections(in, d, s, path);
        if (d.postLoad() != null) {
            try {
                d.postLoad().run(s, version);
            } catch (Exception e) {
                throw new VMStateException(path, null, "post_load failed: " + describe(e), in.position(), e);
            }
        }
    }

    private <T> void loadSubsections(MigrationInput in, VMStateDescription<T> d, T s, String path)
            throws IOException {
        byte[] parent = d.name().getBytes(StandardCharsets.UTF_8);
        while (in.peekByte() == QEMU_VM_SUBSECTION) {
            byte[] head = in.peekBytes(0, 2);
            if (head.length < 2) {
                return;
            }
            int len = head[1] & 0xff;
            if (len < parent.length + 1) {
                return; // not "parent/xxx": the bytes belong to an outer descriptor
            }
            byte[] nameBytes = in.peekBytes(2, len);
            if (nameBytes.length != len) {
                return;
            }
            for (int k = 0; k < parent.length; k++) {
                if (nameBytes[k] != parent[k]) {
                    return;
                }
            }
            String name = new String(nameBytes, StandardCharsets.UTF_8);
            VMStateDescription<T> sub = d.subsection(name);
            if (sub == null) {
                throw new VMStateException(path, null, "unknown subsection '" + name + "'", in.position());
            }
            in.skip(2 + len);
            int version = in.getBe32() & 0xff; // QEMU 7.2 keeps only the low byte
            loadState(in, sub, s, version, path + "/" + lastPart(sub.name()));
        }
    }

    // ---------------------------------------------------------------- shared

    private <T> void checkBounds(String path, VMStateField<T> f, long n, long size, long offset)
            throws VMStateException {
        if (n < 0) {
            throw new VMStateException(path, f.name(), "negative element count " + n, offset);
        }
        if (size < 0) {
            throw new VMStateException(path, f.name(), "negative element size " + size, offset);
        }
        if (n > limits.maxElements()) {
            throw new VMStateException(path, f.name(), "element count " + n + " exceeds the limit of "
                    + limits.maxElements(), offset);
        }
        if (n * size > limits.maxFieldBytes()) {
            throw new VMStateException(path, f.name(), n + " elements of " + size + " bytes exceed the limit of "
                    + limits.maxFieldBytes() + " bytes per field", offset);
        }
    }

    /**
     * Allocating structs become Java objects, whatever their declared C size: each is charged at least
     * {@link #STRUCT_ALLOC_MIN_BYTES} against the per-field byte limit, so a count from the stream cannot
     * make millions of objects.
     */
    private <T> void checkStructAllocation(String path, VMStateField<T> f, long n, long size, long offset)
            throws VMStateException {
        long each = Math.max(size, STRUCT_ALLOC_MIN_BYTES);
        if (n * each > limits.maxFieldBytes()) {
            throw new VMStateException(path, f.name(), n + " structs to allocate (counted at " + each
                    + " bytes each) exceed the limit of " + limits.maxFieldBytes() + " bytes per field", offset);
        }
    }

    private static <T> void runHook(org.savevm.api.vmstate.VMStateHook<T> hook, T s, String path, String what,
            long offset) throws VMStateException {
        if (hook == null) {
            return;
        }
        try {
            hook.run(s);
        } catch (Exception e) {
            throw new VMStateException(path, null, what + " failed: " + describe(e), offset, e);
        }
    }

    private static String elementPath(String path, VMStateField<?> f, int i, long n) {
        return path + "." + f.name() + (n > 1 ? "[" + i + "]" : "");
    }

    private static String lastPart(String subName) {
        int slash = subName.lastIndexOf('/');
        return slash < 0 ? subName : subName.substring(slash + 1);
    }

    private static VMStateException wrap(String path, VMStateField<?> f, int i, long n, Exception e, long start) {
        long offset = e instanceof MigrationStreamException m && m.offset() >= 0 ? m.offset() : start;
        String where = n > 1 ? "element " + i + ": " : "";
        String hint = f.errHint() == null ? "" : " (" + f.errHint() + ")";
        return new VMStateException(path, f.name(), where + describe(e) + hint, offset, e);
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        return m.replaceAll(" \\(at byte offset -?\\d+\\)$", "");
    }
}
