package org.savevm.api.block;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One {@code --disk} option, in the spirit of QEMU's {@code -drive}: {@code FILE[,format=raw|qcow2][,id=NAME]
 * [,readonly=on|off][,cache=writeback|none|writethrough|directsync|unsafe]} (cache as QEMU's, writeback by
 * default), or with {@code file=FILE} among the options. As in QEMU's option syntax a comma inside a
 * value is written twice. Without {@code id} the drive is {@code disk<index>}; the id is the device name the
 * "block" section carries, so it follows QEMU's id rules (a letter, then letters, digits, '-', '.', '_').
 *
 * @param format empty: probe the file as QEMU does
 */
public record DriveSpec(Path file, Optional<ImageFormat> format, String id, boolean readOnly, CacheMode cache) {
    /** QEMU's block section counts a device name in one byte. */
    public static final int MAX_ID_LENGTH = 255;

    public DriveSpec {
        checkId(id);
    }

    /** Parses one option value; {@code index} names the drive when it has no id. */
    public static DriveSpec parse(String spec, int index) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("--disk: empty drive specification");
        }
        List<String> parts = split(spec);
        String file = null;
        Optional<ImageFormat> format = Optional.empty();
        String id = null;
        boolean readOnly = false;
        CacheMode cache = CacheMode.WRITEBACK;
        for (int i = 0; i < parts.size(); i++) {
            String p = parts.get(i);
            int eq = p.indexOf('=');
            if (i == 0 && (eq < 0 || !isKey(p.substring(0, eq)))) {
                file = p;
                continue;
            }
            if (eq < 0) {
                throw new IllegalArgumentException("--disk " + spec + ": '" + p + "' is not KEY=VALUE");
            }
            String key = p.substring(0, eq);
            String value = p.substring(eq + 1);
            switch (key) {
                case "file" -> file = value;
                case "format" -> {
                    try {
                        format = Optional.of(ImageFormat.parse(value));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("--disk " + spec + ": " + e.getMessage());
                    }
                }
                case "id" -> id = value;
                case "readonly" -> readOnly = switch (value) {
                    case "on", "true", "yes" -> true;
                    case "off", "false", "no" -> false;
                    default -> throw new IllegalArgumentException("--disk " + spec + ": readonly must be on or off");
                };
                case "cache" -> {
                    try {
                        cache = CacheMode.parse(value);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("--disk " + spec + ": " + e.getMessage());
                    }
                }
                default -> throw new IllegalArgumentException("--disk " + spec + ": unknown option '" + key
                        + "' (file, format, id, readonly, cache)");
            }
        }
        if (file == null || file.isEmpty()) {
            throw new IllegalArgumentException("--disk " + spec + ": no file");
        }
        return new DriveSpec(Path.of(file), format, id == null ? "disk" + index : id, readOnly, cache);
    }

    /** Parses every spec in order, refusing two drives with one id. */
    public static List<DriveSpec> parseAll(List<String> specs) {
        List<DriveSpec> out = new ArrayList<>();
        for (String s : specs) {
            DriveSpec d = parse(s, out.size());
            for (DriveSpec o : out) {
                if (o.id().equals(d.id())) {
                    throw new IllegalArgumentException("--disk: duplicate drive id '" + d.id() + "'");
                }
            }
            out.add(d);
        }
        return List.copyOf(out);
    }

    private static boolean isKey(String k) {
        return k.equals("file") || k.equals("format") || k.equals("id") || k.equals("readonly") || k.equals("cache");
    }

    /** Splits at single commas; ",," is a literal comma. */
    private static List<String> split(String s) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ',') {
                if (i + 1 < s.length() && s.charAt(i + 1) == ',') {
                    cur.append(',');
                    i++;
                } else {
                    parts.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString());
        return parts;
    }

    /** Checks a drive id (QEMU's id rules); the error says what is wrong. */
    public static void checkId(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            throw new IllegalArgumentException("drive id must be 1.." + MAX_ID_LENGTH + " characters");
        }
        if (!Character.isLetter(id.charAt(0)) || id.charAt(0) > 127) {
            throw new IllegalArgumentException("drive id '" + id + "' must start with a letter");
        }
        for (int i = 1; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c > 127 || !(Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '_')) {
                throw new IllegalArgumentException("drive id '" + id + "' may hold only letters, digits, '-', '.', '_'");
            }
        }
    }
}
