package org.savevm.core.loadvm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.savevm.stream.MigrationInput;

/**
 * The sections the source's vmdesc trailer lists: {@code devices[].name} and {@code .instance_id}, one per
 * FULL section QEMU (and savevm) wrote. The JSON is read straight from the stream, byte by byte, exactly
 * {@code length} bytes, never buffered whole; everything else in it is skipped. A trailer whose JSON does
 * not have that shape is {@link Malformed}.
 */
final class VmdescSections {
    /** Nesting deeper than any vmdesc QEMU writes (structs in structs in subsections). */
    private static final int MAX_DEPTH = 128;
    /** The longest idstr kept: QEMU's are at most 256 bytes. */
    private static final int MAX_NAME = 1024;

    /** One {@code devices} entry. */
    record Entry(String name, long instanceId) {
        @Override
        public String toString() {
            return "'" + name + "' instance " + instanceId;
        }
    }

    /** The trailer's JSON is not a vmdesc. */
    static final class Malformed extends IOException {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message);
        }
    }

    private final MigrationInput in;
    private final long length;
    private long remaining;
    private int pushedBack = -1;

    private VmdescSections(MigrationInput in, long length) {
        this.in = in;
        this.length = length;
        this.remaining = length;
    }

    /** Reads the {@code length} bytes of JSON that follow in {@code in}; all of them are consumed. */
    static List<Entry> read(MigrationInput in, long length) throws IOException {
        VmdescSections r = new VmdescSections(in, length);
        try {
            return r.top();
        } finally {
            if (r.remaining > 0) {
                in.skip(r.remaining);
            }
        }
    }

    private List<Entry> top() throws IOException {
        List<Entry> entries = null;
        expect('{');
        if (!closes('}')) {
            do {
                String key = string(true);
                expect(':');
                if (key.equals("devices")) {
                    entries = devices();
                } else {
                    skipValue(1);
                }
            } while (more('}'));
        }
        if (entries == null) {
            throw malformed("no \"devices\" array");
        }
        return entries;
    }

    private List<Entry> devices() throws IOException {
        List<Entry> list = new ArrayList<>();
        expect('[');
        if (closes(']')) {
            return list;
        }
        do {
            String name = null;
            Long instance = null;
            expect('{');
            if (!closes('}')) {
                do {
                    String key = string(true);
                    expect(':');
                    if (key.equals("name")) {
                        name = string(true);
                    } else if (key.equals("instance_id")) {
                        instance = integer();
                    } else {
                        skipValue(3);
                    }
                } while (more('}'));
            }
            if (name == null || instance == null) {
                throw malformed("devices[" + list.size() + "] lacks a string \"name\" or an integer \"instance_id\"");
            }
            list.add(new Entry(name, instance));
        } while (more(']'));
        return list;
    }

    // ---- tokens

    private int next() throws IOException {
        if (pushedBack >= 0) {
            int c = pushedBack;
            pushedBack = -1;
            return c;
        }
        if (remaining == 0) {
            throw malformed("the JSON ends early");
        }
        remaining--;
        return in.getByte();
    }

    private int nextNonSpace() throws IOException {
        int c;
        do {
            c = next();
        } while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
        return c;
    }

    private void expect(char want) throws IOException {
        int c = nextNonSpace();
        if (c != want) {
            throw malformed("expected '" + want + "', found byte 0x" + Integer.toHexString(c));
        }
    }

    /** True when the container closes right away (empty); otherwise the byte is kept. */
    private boolean closes(char close) throws IOException {
        int c = nextNonSpace();
        if (c == close) {
            return true;
        }
        pushedBack = c;
        return false;
    }

    /** After a member: true for ',', false for the closing byte. */
    private boolean more(char close) throws IOException {
        int c = nextNonSpace();
        if (c == ',') {
            return true;
        }
        if (c == close) {
            return false;
        }
        throw malformed("expected ',' or '" + close + "', found byte 0x" + Integer.toHexString(c));
    }

    /** A string (the opening quote not read yet); its text only when {@code keep}. */
    private String string(boolean keep) throws IOException {
        expect('"');
        ByteArrayOutputStream b = keep ? new ByteArrayOutputStream() : null;
        StringBuilder escaped = keep ? new StringBuilder() : null;
        while (true) {
            int c = next();
            if (c == '"') {
                break;
            }
            if (c == '\\') {
                int e = next();
                int ch = switch (e) {
                case '"', '\\', '/' -> e;
                case 'b' -> '\b';
                case 'f' -> '\f';
                case 'n' -> '\n';
                case 'r' -> '\r';
                case 't' -> '\t';
                case 'u' -> hex4();
                default -> throw malformed("bad escape \\" + (char) e + " in a string");
                };
                if (keep) {
                    flush(b, escaped);
                    escaped.append((char) ch);
                }
            } else if (keep) {
                b.write(c);
            }
            if (keep && b.size() + escaped.length() > MAX_NAME) {
                throw malformed("a key or name longer than " + MAX_NAME + " bytes");
            }
        }
        if (!keep) {
            return null;
        }
        flush(b, escaped);
        return escaped.toString();
    }

    private static void flush(ByteArrayOutputStream b, StringBuilder sb) {
        if (b.size() > 0) {
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.reset();
        }
    }

    private int hex4() throws IOException {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(next(), 16);
            if (d < 0) {
                throw malformed("bad \\u escape in a string");
            }
            v = v * 16 + d;
        }
        return v;
    }

    private long integer() throws IOException {
        int c = nextNonSpace();
        boolean negative = c == '-';
        if (negative) {
            c = next();
        }
        if (c < '0' || c > '9') {
            throw malformed("\"instance_id\" is not an integer");
        }
        long v = 0;
        int digits = 0;
        while (c >= '0' && c <= '9') {
            if (++digits > 18) {
                throw malformed("\"instance_id\" out of range");
            }
            v = v * 10 + (c - '0');
            c = remaining == 0 && pushedBack < 0 ? -1 : next();
        }
        if (c == '.' || c == 'e' || c == 'E') {
            throw malformed("\"instance_id\" is not an integer");
        }
        if (c >= 0) {
            pushedBack = c;
        }
        return negative ? -v : v;
    }

    private void skipValue(int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw malformed("nested deeper than " + MAX_DEPTH);
        }
        int c = nextNonSpace();
        switch (c) {
        case '{' -> {
            if (!closes('}')) {
                do {
                    string(false);
                    expect(':');
                    skipValue(depth + 1);
                } while (more('}'));
            }
        }
        case '[' -> {
            if (!closes(']')) {
                do {
                    skipValue(depth + 1);
                } while (more(']'));
            }
        }
        case '"' -> {
            pushedBack = c;
            string(false);
        }
        default -> {
            if (c != '-' && c != 't' && c != 'f' && c != 'n' && (c < '0' || c > '9')) {
                throw malformed("unexpected byte 0x" + Integer.toHexString(c));
            }
            // a number or literal: up to the next delimiter
            while (true) {
                int d = next();
                if (d == ',' || d == '}' || d == ']' || d == ' ' || d == '\n' || d == '\r' || d == '\t') {
                    pushedBack = d;
                    return;
                }
                if (!(d == '-' || d == '+' || d == '.' || Character.isLetterOrDigit(d))) {
                    throw malformed("unexpected byte 0x" + Integer.toHexString(d));
                }
            }
        }
        }
    }

    private Malformed malformed(String what) {
        return new Malformed("vmdesc JSON: " + what + " (at byte " + (length - remaining) + " of " + length + ")");
    }
}
