package org.savevm.api.migration;

/** QEMU's qemu_strtosz: sizes on the command line and in migration parameters. */
public final class Sizes {
    private Sizes() {
    }

    /**
     * {@code 64M}, {@code 1.5G}, {@code 4096B}: a suffix B K M G T is a power of 1024; without one the
     * value is shifted by {@code defaultShift} bits.
     */
    public static long parse(String t, int defaultShift) {
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty size");
        }
        char last = Character.toUpperCase(t.charAt(t.length() - 1));
        int shift;
        String digits = t;
        switch (last) {
            case 'B' -> shift = 0;
            case 'K' -> shift = 10;
            case 'M' -> shift = 20;
            case 'G' -> shift = 30;
            case 'T' -> shift = 40;
            default -> {
                shift = defaultShift;
                digits = t + " ";
            }
        }
        digits = digits.substring(0, digits.length() - 1).trim();
        double v;
        try {
            v = Double.parseDouble(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid size '" + t + "'");
        }
        if (!(v >= 0) || digits.startsWith("-")) {
            throw new IllegalArgumentException("invalid size '" + t + "'");
        }
        double bytes = v * Math.pow(2, shift);
        if (bytes >= 0x1p63) {
            throw new IllegalArgumentException("size too large: '" + t + "'");
        }
        return (long) bytes;
    }

    /**
     * The machine's sizes ({@code --ram}, {@code --disk-dirty-rate}): plain bytes, or a whole number with K, M, G or
     * T (powers of 1024). Stricter than {@link #parse}: no fractions, no B suffix.
     */
    public static long parseBytes(String s) {
        String t = s.trim();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty size");
        }
        char last = Character.toUpperCase(t.charAt(t.length() - 1));
        int shift = switch (last) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            case 'T' -> 40;
            default -> 0;
        };
        String num = shift == 0 ? t : t.substring(0, t.length() - 1);
        long v;
        try {
            v = Long.parseLong(num);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad size '" + s + "'");
        }
        if (v < 0 || (shift > 0 && v > (Long.MAX_VALUE >> shift))) {
            throw new IllegalArgumentException("size out of range '" + s + "'");
        }
        return v << shift;
    }
}
