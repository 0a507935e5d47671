package org.savevm.api.vmstate;

import org.savevm.stream.MigrationStreamException;

/** A save or load of a descriptor failed: names the descriptor path, the field and the byte offset. */
public class VMStateException extends MigrationStreamException {
    private static final long serialVersionUID = 1L;
    private final String descriptor;
    private final String field;

    public VMStateException(String descriptor, String field, String message, long offset, Throwable cause) {
        super(descriptor + (field == null ? "" : ": field '" + field + "'") + ": " + message, offset, cause);
        this.descriptor = descriptor;
        this.field = field;
    }

    public VMStateException(String descriptor, String field, String message, long offset) {
        this(descriptor, field, message, offset, null);
    }

    /** The descriptor path, outermost first, e.g. {@code serial/serial/serial/recv_fifo/Fifo8}. */
    public String descriptor() {
        return descriptor;
    }

    /** The field, or null when the error is about the descriptor itself (versions, hooks, subsections). */
    public String field() {
        return field;
    }
}
