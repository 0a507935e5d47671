package org.savevm.vmstate.internal;

import java.util.ArrayDeque;
import java.util.Deque;

import org.savevm.stream.json.JsonText;

/**
 * QEMU 7.2's JSONWriter in its compact (non-pretty) mode, appending to a caller's buffer: {@code ", "}
 * between members, {@code ": "} after keys, nothing after an opening bracket. The first member written
 * gets no separator, because the caller has already opened the object and adds its own.
 */
public final class VmdescJson {
    private final StringBuilder out;
    private final Deque<Boolean> stack = new ArrayDeque<>();
    private boolean needComma;

    VmdescJson(StringBuilder out) {
        this.out = out;
    }

    private void member(String name) {
        if (needComma) {
            out.append(", ");
        }
        needComma = true;
        if (name != null) {
            JsonText.appendQuoted(out, name);
            out.append(": ");
        }
    }

    void str(String name, String value) {
        member(name);
        JsonText.appendQuoted(out, value);
    }

    void integer(String name, long value) {
        member(name);
        out.append(value);
    }

    /** Members already rendered in this form (e.g. a child vmsd a type writes itself), as one member. */
    void members(String rendered) {
        if (needComma) {
            out.append(", ");
        }
        needComma = true;
        out.append(rendered);
    }

    void startObject(String name) {
        member(name);
        out.append('{');
        stack.push(needComma);
        needComma = false;
    }

    void endObject() {
        stack.pop();
        needComma = true;
        out.append('}');
    }

    void startArray(String name) {
        member(name);
        out.append('[');
        stack.push(needComma);
        needComma = false;
    }

    void endArray() {
        stack.pop();
        needComma = true;
        out.append(']');
    }
}
