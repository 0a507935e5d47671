package org.savevm.stream;

/**
 * Makes text taken from a stream (block names, idstrs, machine types, JSON strings) inert before it goes
 * into a message, a log line or the terminal: every character that is not printable is replaced by an
 * escape, so terminal control sequences (ESC, CSI), carriage returns and newlines that fake log lines,
 * and bidirectional overrides that reorder what is shown all appear as text. Characters below U+0100
 * become {@code \xNN}, others a backslash, {@code u} and four hex digits. A backslash is left as it is,
 * so escaping twice changes nothing (an escaped message can be wrapped into another one that is escaped
 * again); the price is that a stream string holding a literal {@code \x1b} reads the same as an escaped
 * ESC.
 */
public final class Printable {
    private Printable() {
    }

    /** {@code text} with every non-printable character escaped; the same string when there is none. */
    public static String escape(CharSequence text) {
        if (text == null) {
            return "null";
        }
        int n = text.length();
        int i = 0;
        while (i < n && printable(text, i)) {
            i++;
        }
        if (i == n) {
            return text.toString();
        }
        StringBuilder sb = new StringBuilder(n + 16);
        sb.append(text, 0, i);
        for (; i < n; i++) {
            char c = text.charAt(i);
            if (printable(text, i)) {
                sb.append(c);
            } else if (c < 0x100) {
                sb.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
            } else {
                sb.append(String.format("\\u%04x", (int) c));
            }
        }
        return sb.toString();
    }

    /** Whether the character at {@code i} can be shown as it is. */
    private static boolean printable(CharSequence text, int i) {
        char c = text.charAt(i);
        if (c >= 0x20 && c < 0x7f) {
            return true;
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))
                    && printableCodePoint(Character.toCodePoint(c, text.charAt(i + 1)));
        }
        if (Character.isLowSurrogate(c)) {
            return i > 0 && Character.isHighSurrogate(text.charAt(i - 1))
                    && printableCodePoint(Character.toCodePoint(text.charAt(i - 1), c));
        }
        return printableCodePoint(c);
    }

    private static boolean printableCodePoint(int cp) {
        return switch (Character.getType(cp)) {
        case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                Character.UNASSIGNED, Character.PRIVATE_USE, Character.SURROGATE -> false;
        default -> true;
        };
    }
}
