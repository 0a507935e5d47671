package org.savevm.api.qmp;

/**
 * A refused QMP command: QEMU's error class ({@code GenericError} for nearly everything, {@code CommandNotFound},
 * {@code DeviceNotFound}) and its human-readable {@code desc}.
 */
public final class QmpError extends Exception {
    private static final long serialVersionUID = 1L;
    public static final String GENERIC = "GenericError";

    private final String errorClass;

    public QmpError(String errorClass, String desc) {
        super(desc);
        this.errorClass = errorClass;
    }

    /** A GenericError. */
    public QmpError(String desc) {
        this(GENERIC, desc);
    }

    public String errorClass() {
        return errorClass;
    }
}
