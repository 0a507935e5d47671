package org.savevm.api.settings;

import java.util.List;

/**
 * One migration parameter as QEMU 7.2 knows it: its name, default, kind (how HMP parses a value) and
 * the range migrate_params_check enforces, with QEMU's wording of the refusal.
 *
 * @param name      QEMU's parameter name, e.g. {@code compress-level}
 * @param qemuField the C field name QEMU puts into its message, e.g. {@code compress_level}
 */
public record ParameterSpec(String name, String qemuField, long defaultValue, Kind kind, long min, long max,
        String expects, List<String> choices) {

    public ParameterSpec(String name, String qemuField, long defaultValue, Kind kind, long min, long max,
            String expects) {
        this(name, qemuField, defaultValue, kind, min, max, expects, List.of());
    }

    /** How a textual value is read. */
    public enum Kind {
        /** A plain integer. */
        INTEGER,
        /** A byte count; bare numbers are MiB as in HMP's migrate_set_parameter, suffixes K M G T allowed. */
        SIZE,
        /** on/off, true/false, 1/0. */
        BOOLEAN,
        /** One of {@link #choices()} by name (a QAPI enum); held as its index. */
        ENUM
    }

    /** The value as QEMU shows it: the enum member's name, else the number. */
    public Object display(long value) {
        return kind == Kind.ENUM && value >= 0 && value < choices.size() ? choices.get((int) value) : value;
    }

    /** True when {@code value} is inside the range checked without looking at other parameters. */
    public boolean inRange(long value) {
        return value >= min && value <= max;
    }

    /** QEMU's QERR_INVALID_PARAMETER_VALUE text for this parameter. */
    public String refusal() {
        return "Parameter '" + qemuField + "' expects " + expects;
    }
}
