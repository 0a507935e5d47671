package org.savevm.framing;

import org.savevm.stream.MigrationStreamException;

/** Helpers to re-wrap stream errors with more context without repeating the offset suffix. */
public final class Messages {
    private Messages() {
    }

    /** The message of {@code e} without the " (at byte offset N)" suffix MigrationStreamException adds. */
    public static String strip(MigrationStreamException e) {
        String m = e.getMessage();
        String suffix = " (at byte offset " + e.offset() + ")";
        return m != null && m.endsWith(suffix) ? m.substring(0, m.length() - suffix.length()) : String.valueOf(m);
    }

    /** A new exception with {@code context + ": "} in front of {@code e}'s message, at {@code e}'s offset. */
    public static MigrationStreamException prefixed(String context, MigrationStreamException e) {
        return new MigrationStreamException(context + ": " + strip(e), e.offset(), e);
    }
}
