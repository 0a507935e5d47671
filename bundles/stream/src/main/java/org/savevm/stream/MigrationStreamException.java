package org.savevm.stream;

import java.io.IOException;

/**
 * A malformed or truncated stream, or a failed channel. Carries the byte offset in the stream at which
 * the problem was found so that every error message can say where. Messages are often built from the
 * stream's own strings (idstrs, block names): the message is passed through {@link Printable#escape}, so
 * whatever prints it never shows raw control bytes.
 */
public class MigrationStreamException extends IOException {
    private static final long serialVersionUID = 1L;
    private final long offset;

    public MigrationStreamException(String message, long offset) {
        super(Printable.escape(message + " (at byte offset " + offset + ")"));
        this.offset = offset;
    }

    public MigrationStreamException(String message, long offset, Throwable cause) {
        super(Printable.escape(message + " (at byte offset " + offset + ")"), cause);
        this.offset = offset;
    }

    /** Byte offset in the stream where the problem was detected, or -1 when unknown. */
    public long offset() {
        return offset;
    }
}
