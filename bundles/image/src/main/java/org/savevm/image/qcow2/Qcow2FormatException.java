package org.savevm.image.qcow2;

import java.io.IOException;

/** A qcow2 image whose metadata is malformed or uses a feature we do not implement; the message names file and offset. */
public final class Qcow2FormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public Qcow2FormatException(String message) {
        super(message);
    }
}
