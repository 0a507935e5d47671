package org.savevm.migration.params;

import java.util.Locale;

import org.savevm.api.settings.ParameterSpec;

/** Reads parameter values as HMP's migrate_set_parameter does: sizes with suffixes, on/off booleans. */
public final class ValueParser {
    private ValueParser() {
    }

    public static long parse(ParameterSpec spec, String text) {
        String t = text.trim();
        return switch (spec.kind()) {
            case BOOLEAN -> parseBoolean(spec, t);
            case SIZE -> parseSize(t, 20);
            case INTEGER -> parseInteger(spec, t);
            case ENUM -> parseEnum(spec, t);
        };
    }

    private static long parseEnum(ParameterSpec spec, String t) {
        int i = spec.choices().indexOf(t);
        if (i < 0) {
            throw new IllegalArgumentException("Parameter '" + spec.qemuField() + "' does not accept value '" + t + "'");
        }
        return i;
    }

    private static long parseInteger(ParameterSpec spec, String t) {
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Parameter '" + spec.qemuField() + "' expects an integer, got '" + t + "'");
        }
    }

    private static long parseBoolean(ParameterSpec spec, String t) {
        return switch (t.toLowerCase(Locale.ROOT)) {
            case "on", "true", "yes", "1" -> 1;
            case "off", "false", "no", "0" -> 0;
            default -> throw new IllegalArgumentException("Parameter '" + spec.qemuField() + "' expects 'on' or 'off'");
        };
    }

    /**
     * A byte count: digits with an optional fraction and suffix B, K, M, G, T (powers of 1024). A bare
     * number is multiplied by {@code 1 << defaultShift} (HMP reads bare sizes as MiB: shift 20).
     */
    public static long parseSize(String t, int defaultShift) {
        return org.savevm.api.migration.Sizes.parse(t, defaultShift);
    }
}
