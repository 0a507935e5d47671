package org.savevm.qmp.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits the command line of {@code human-monitor-command} into words as a shell would: blanks separate, single or
 * double quotes keep blanks, a backslash escapes the next character. An unterminated quote is refused.
 */
final class CommandLine {
    private CommandLine() {
    }

    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                    w.append(line.charAt(++i));
                } else {
                    w.append(c);
                }
            } else if (Character.isWhitespace(c)) {
                if (w != null) {
                    words.add(w.toString());
                    w = null;
                }
            } else {
                if (w == null) {
                    w = new StringBuilder();
                }
                if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '\\' && i + 1 < line.length()) {
                    w.append(line.charAt(++i));
                } else {
                    w.append(c);
                }
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unterminated " + quote + " in the command line");
        }
        if (w != null) {
            words.add(w.toString());
        }
        return words;
    }
}
