package org.savevm.stream;

import java.io.IOException;

/**
 * A malformed or truncated stream, or a failed channel. Carries the byte offset in the stream at which
 * the problem was found so that every error message can say where.
 */
public class MigrationStreamException extends IOException {
    private static final long serialVersionUID = 1L;
    private final long offset;

    public MigrationStreamException(String message, long offset) {
        super(message + " (at byte offset " + offset + ")");
        this.offset = offset;
    }

    public MigrationStreamException(String message, long offset, Throwable cause) {
        super(message + " (at byte offset " + offset + ")", cause);
        this.offset = offset;
    }

    /** Byte offset in the stream where the problem was detected, or -1 when unknown. */
    public long offset() {
        return offset;
    }
}
