package org.savevm.api.block;

import java.util.Locale;

/** The image formats savevm reads and writes, named as QEMU's {@code format=} option names them. */
public enum ImageFormat {
    RAW, QCOW2;

    /** QEMU's name: {@code raw}, {@code qcow2}. */
    public String qemuName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses QEMU's name; the error names the accepted ones. */
    public static ImageFormat parse(String name) {
        for (ImageFormat f : values()) {
            if (f.qemuName().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown image format '" + name + "' (raw, qcow2)");
    }
}
