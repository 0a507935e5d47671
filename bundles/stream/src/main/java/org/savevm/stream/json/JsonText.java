package org.savevm.stream.json;

/** JSON string quoting exactly as QEMU 6.0+'s JSONWriter does it (qobject/json-writer.c). */
public final class JsonText {
    private JsonText() {
    }

    public static void appendQuoted(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length();) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            switch (cp) {
            case '"': sb.append("\\\""); break;
            case '\\': sb.append("\\\\"); break;
            case '\b': sb.append("\\b"); break;
            case '\f': sb.append("\\f"); break;
            case '\n': sb.append("\\n"); break;
            case '\r': sb.append("\\r"); break;
            case '\t': sb.append("\\t"); break;
            default:
                if (cp < 0x20 || cp >= 0x7f) {
                    if (cp >= 0x10000) {
                        // outside the BMP: a surrogate pair, each half as \\uXXXX
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
        sb.append('"');
    }

    public static String quoted(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        appendQuoted(sb, s);
        return sb.toString();
    }
}
