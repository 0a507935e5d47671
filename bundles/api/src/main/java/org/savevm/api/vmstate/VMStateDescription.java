package org.savevm.api.vmstate;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

import org.savevm.api.MigrationPriority;

/**
 * QEMU's VMStateDescription for a state object of type {@code T}: name, version and minimum version,
 * the fields in wire order, subsections (each with its {@code needed} test), the four hooks, priority
 * and unmigratable. Immutable; built with {@link #builder}:
 *
 * <pre>
 * VMStateDescription.builder("serial", SerialState.class).version(3).minimumVersion(2)
 *     .preSave(s -> s.fcrVmstate = s.fcr)
 *     .field(since(2, uint16("divider", s -> s.divider, (s, v) -> s.divider = v)))
 *     .subsection(thrIpending)
 *     .build();
 * </pre>
 */
public final class VMStateDescription<T> {
    private final String name;
    private final int version;
    private final int minimumVersion;
    private final List<VMStateField<T>> fields;
    private final List<VMStateDescription<T>> subsections;
    private final Predicate<T> needed;
    private final VMStateHook<T> preSave;
    private final VMStateHook<T> postSave;
    private final VMStateHook<T> preLoad;
    private final VMStatePostLoad<T> postLoad;
    private final boolean unmigratable;
    private final MigrationPriority priority;
    private final String deviceType;
    private final int qemuStructSize;

    /** A descriptor without fields (kept from the first API version). */
    public VMStateDescription(String name, int version, int minimumVersion) {
        this(new Builder<T>(name).version(version).minimumVersion(minimumVersion));
    }

    private VMStateDescription(Builder<T> b) {
        this.name = Objects.requireNonNull(b.name, "name");
        this.version = b.version;
        this.minimumVersion = b.minimumVersion;
        this.fields = List.copyOf(b.fields);
        this.subsections = List.copyOf(b.subsections);
        this.needed = b.needed;
        this.preSave = b.preSave;
        this.postSave = b.postSave;
        this.preLoad = b.preLoad;
        this.postLoad = b.postLoad;
        this.unmigratable = b.unmigratable;
        this.priority = b.priority;
        this.deviceType = b.deviceType;
        this.qemuStructSize = b.qemuStructSize;
        if (qemuStructSize < 0) {
            throw new IllegalArgumentException(name + ": negative struct size " + qemuStructSize);
        }
        for (VMStateDescription<T> sub : subsections) {
            if (!sub.name.startsWith(name) || sub.name.length() <= name.length()) {
                // QEMU's loader only finds subsections whose names extend the parent's ("parent/xxx")
                throw new IllegalArgumentException("subsection '" + sub.name + "' must extend '" + name + "'");
            }
        }
    }

    /** Starts a descriptor for state objects of {@code type} (the class only fixes {@code T}). */
    public static <T> Builder<T> builder(String name, Class<T> type) {
        return new Builder<>(name);
    }

    public static <T> Builder<T> builder(String name) {
        return new Builder<>(name);
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

    public List<VMStateField<T>> fields() {
        return fields;
    }

    public List<VMStateDescription<T>> subsections() {
        return subsections;
    }

    /** QEMU's vmstate_section_needed: false only when a needed test exists and says no. */
    public boolean isNeeded(T state) {
        return needed == null || needed.test(state);
    }

    public Predicate<T> needed() {
        return needed;
    }

    public VMStateHook<T> preSave() {
        return preSave;
    }

    public VMStateHook<T> postSave() {
        return postSave;
    }

    public VMStateHook<T> preLoad() {
        return preLoad;
    }

    public VMStatePostLoad<T> postLoad() {
        return postLoad;
    }

    public boolean unmigratable() {
        return unmigratable;
    }

    public MigrationPriority priority() {
        return priority;
    }

    /**
     * The QOM type name that {@code -dump-vmstate} lists this descriptor under (e.g. {@code isa-serial}
     * for the descriptor named {@code serial}); the descriptor name when not set.
     */
    public String deviceType() {
        return deviceType != null ? deviceType : name;
    }

    /**
     * {@code sizeof} of the C struct QEMU keeps this state in (e.g. 24 for Fifo8), or 0 when not
     * declared. Only -dump-vmstate shows it: as the {@code size} of struct, tmp, queue and gtree fields
     * over this descriptor that declare no size of their own. Never on the wire.
     */
    public int qemuStructSize() {
        return qemuStructSize;
    }

    /** The subsection named {@code name}, or null (QEMU's vmstate_get_subsection). */
    public VMStateDescription<T> subsection(String subName) {
        for (VMStateDescription<T> s : subsections) {
            if (s.name.equals(subName)) {
                return s;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return name + " v" + version + " (min " + minimumVersion + ")";
    }

    public static final class Builder<T> {
        private final String name;
        private int version;
        private int minimumVersion;
        private final List<VMStateField<T>> fields = new ArrayList<>();
        private final List<VMStateDescription<T>> subsections = new ArrayList<>();
        private Predicate<T> needed;
        private VMStateHook<T> preSave;
        private VMStateHook<T> postSave;
        private VMStateHook<T> preLoad;
        private VMStatePostLoad<T> postLoad;
        private boolean unmigratable;
        private MigrationPriority priority = MigrationPriority.DEFAULT;
        private String deviceType;
        private int qemuStructSize;

        private Builder(String name) {
            this.name = name;
        }

        public Builder<T> version(int v) {
            this.version = v;
            return this;
        }

        public Builder<T> minimumVersion(int v) {
            this.minimumVersion = v;
            return this;
        }

        public Builder<T> field(VMStateField<T> f) {
            fields.add(Objects.requireNonNull(f));
            return this;
        }

        @SafeVarargs
        public final Builder<T> fields(VMStateField<T>... fs) {
            for (VMStateField<T> f : fs) {
                field(f);
            }
            return this;
        }

        /** Adds a subsection; its name must start with this descriptor's name (QEMU: "parent/xxx"). */
        public Builder<T> subsection(VMStateDescription<T> sub) {
            subsections.add(Objects.requireNonNull(sub));
            return this;
        }

        /** The {@code needed} test of a subsection (or of a whole optional section). */
        public Builder<T> needed(Predicate<T> test) {
            this.needed = test;
            return this;
        }

        public Builder<T> preSave(VMStateHook<T> h) {
            this.preSave = h;
            return this;
        }

        public Builder<T> postSave(VMStateHook<T> h) {
            this.postSave = h;
            return this;
        }

        public Builder<T> preLoad(VMStateHook<T> h) {
            this.preLoad = h;
            return this;
        }

        public Builder<T> postLoad(VMStatePostLoad<T> h) {
            this.postLoad = h;
            return this;
        }

        public Builder<T> unmigratable(boolean u) {
            this.unmigratable = u;
            return this;
        }

        public Builder<T> priority(MigrationPriority p) {
            this.priority = Objects.requireNonNull(p);
            return this;
        }

        /** The QOM type name used by dump-vmstate (see {@link VMStateDescription#deviceType()}). */
        public Builder<T> deviceType(String type) {
            this.deviceType = type;
            return this;
        }

        /** See {@link VMStateDescription#qemuStructSize()}. */
        public Builder<T> qemuStructSize(int bytes) {
            this.qemuStructSize = bytes;
            return this;
        }

        public VMStateDescription<T> build() {
            return new VMStateDescription<>(this);
        }
    }
}
