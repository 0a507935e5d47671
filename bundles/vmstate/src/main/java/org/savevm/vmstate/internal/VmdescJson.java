package org.savevm.vmstate.internal;

import java.util.ArrayDeque;
import java.util.Deque;

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
            quote(out, name);
            out.append(": ");
        }
    }

    void str(String name, String value) {
        member(name);
        quote(out, value);
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

    /** JSONWriter's string escaping: short escapes, \\uXXXX (upper-case) below 0x20 and from 0x7F on. */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length();) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            switch (cp) {
            case '"' -> sb.append("\\\"");
            case '\\' -> sb.append("\\\\");
            case '\b' -> sb.append("\\b");
            case '\f' -> sb.append("\\f");
            case '\n' -> sb.append("\\n");
            case '\r' -> sb.append("\\r");
            case '\t' -> sb.append("\\t");
            default -> {
                if (cp < 0x20 || cp >= 0x7f) {
                    if (cp >= 0x10000) {
                        char[] pair = Character.toChars(cp);
                        sb.append(String.format("\\u%04X\\u%04X", (int) pair[0], (int) pair[1]));
                    } else {
                        sb.append(String.format("\\u%04X", cp));
                    }
                } else {
                    sb.append((char) cp);
                }
            }
            }
        }
        sb.append('"');
    }
}
