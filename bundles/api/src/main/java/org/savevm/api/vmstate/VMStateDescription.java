package org.savevm.api.vmstate;

import java.util.Objects;

/**
 * QEMU's VMStateDescription for a state object of type {@code T}. (Skeleton: the vmstate work fills in
 * fields, subsections and hooks.)
 */
public final class VMStateDescription<T> {
    private final String name;
    private final int version;
    private final int minimumVersion;

    public VMStateDescription(String name, int version, int minimumVersion) {
        this.name = Objects.requireNonNull(name);
        this.version = version;
        this.minimumVersion = minimumVersion;
    }

    public String name() {
        return name;
    }

    public int version() {
        return version;
    }

    public int minimumVersion() {
        return minimumVersion;
    }
}
