package org.savevm.api;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * How a state handler wants to appear in the stream: QEMU's register_savevm_live /
 * vmstate_register_with_alias_id arguments.
 *
 * <ul>
 * <li>{@code idstr}: the section name; with a {@code devicePath} the registered idstr becomes
 * {@code devicePath + "/" + idstr} and the plain idstr is kept as a compat entry for old streams.</li>
 * <li>{@code instanceId}: a fixed instance id, or {@link #AUTO} for the next free one of that idstr.</li>
 * <li>{@code aliasId} and {@code requiredForVersion}: an older instance id still accepted on load.</li>
 * <li>{@code orderKey}: breaks ties among equal priorities and decides auto instance ids, so that they
 * follow from the handler's identity rather than from the order in which bundles started.</li>
 * </ul>
 */
public final class SectionRegistration {
    /** QEMU's VMSTATE_INSTANCE_ID_ANY. */
    public static final int AUTO = -1;
    /** No alias id. */
    public static final int NO_ALIAS = -1;

    private final String idstr;
    private final String devicePath;
    private final int instanceId;
    private final int aliasId;
    private final int requiredForVersion;
    private final MigrationPriority priority;
    private final int version;
    private final boolean unmigratable;
    private final String orderKey;

    private SectionRegistration(Builder b) {
        this.idstr = Objects.requireNonNull(b.idstr, "idstr");
        this.devicePath = b.devicePath;
        this.instanceId = b.instanceId;
        this.aliasId = b.aliasId;
        this.requiredForVersion = b.requiredForVersion;
        this.priority = Objects.requireNonNull(b.priority, "priority");
        this.version = b.version;
        this.unmigratable = b.unmigratable;
        this.orderKey = b.orderKey;
    }

    public static Builder builder(String idstr) {
        return new Builder(idstr);
    }

    public String idstr() {
        return idstr;
    }

    /** The idstr written into the stream: {@code devicePath/idstr}, or the plain idstr. */
    public String fullIdstr() {
        return devicePath == null || devicePath.isEmpty() ? idstr : devicePath + "/" + idstr;
    }

    public String devicePath() {
        return devicePath;
    }

    public int instanceId() {
        return instanceId;
    }

    public int aliasId() {
        return aliasId;
    }

    public int requiredForVersion() {
        return requiredForVersion;
    }

    public MigrationPriority priority() {
        return priority;
    }

    public int version() {
        return version;
    }

    public boolean unmigratable() {
        return unmigratable;
    }

    /** The tie-break key: the explicit order key, else the full idstr. */
    public String orderKey() {
        return orderKey != null ? orderKey : fullIdstr();
    }

    /** Checks what QEMU would refuse; returns null when valid, else the reason. */
    public String validate() {
        if (fullIdstr().getBytes(StandardCharsets.UTF_8).length > 255) {
            return "idstr longer than 255 bytes: '" + fullIdstr() + "'";
        }
        if (idstr.isEmpty()) {
            return "empty idstr";
        }
        if (instanceId < AUTO) {
            return "invalid instance id " + instanceId;
        }
        if (version < 0) {
            return "negative version " + version;
        }
        return null;
    }

    @Override
    public String toString() {
        return fullIdstr() + (instanceId == AUTO ? "/auto" : "/" + instanceId) + " v" + version;
    }

    public static final class Builder {
        private final String idstr;
        private String devicePath;
        private int instanceId = 0;
        private int aliasId = NO_ALIAS;
        private int requiredForVersion;
        private MigrationPriority priority = MigrationPriority.DEFAULT;
        private int version = 1;
        private boolean unmigratable;
        private String orderKey;

        private Builder(String idstr) {
            this.idstr = idstr;
        }

        public Builder devicePath(String path) {
            this.devicePath = path;
            return this;
        }

        public Builder instanceId(int id) {
            this.instanceId = id;
            return this;
        }

        public Builder autoInstance() {
            this.instanceId = AUTO;
            return this;
        }

        public Builder alias(int aliasId, int requiredForVersion) {
            this.aliasId = aliasId;
            this.requiredForVersion = requiredForVersion;
            return this;
        }

        public Builder priority(MigrationPriority p) {
            this.priority = p;
            return this;
        }

        public Builder version(int v) {
            this.version = v;
            return this;
        }

        public Builder unmigratable(boolean u) {
            this.unmigratable = u;
            return this;
        }

        public Builder orderKey(String key) {
            this.orderKey = key;
            return this;
        }

        public SectionRegistration build() {
            return new SectionRegistration(this);
        }
    }
}
