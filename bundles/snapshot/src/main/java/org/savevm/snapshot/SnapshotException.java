package org.savevm.snapshot;

import java.io.IOException;

/** A snapshot operation refused or failed; the message is QEMU 7.2's where QEMU has one. */
public class SnapshotException extends IOException {
    private static final long serialVersionUID = 1L;

    public SnapshotException(String message) {
        super(message);
    }

    public SnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}
