package org.savevm.api.settings;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.settings.ParameterSpec.Kind;

/**
 * Every migration parameter of QEMU 7.2 that takes a number (qapi/migration.json, defaults from
 * migration.c), plus the two hidden {@code -global migration.*} switches the savevm core reads; multifd-compression
 * is an enum held as its index (none 0, zlib 1; zstd is refused: no zstd here). QEMU's string parameters that are
 * implemented, {@link #TEXT} (tls-creds, tls-hostname, tls-authz, default empty), are listed apart: only the
 * orchestrator's transport reads them, so they are not part of {@link MigrationSettings}. block-bitmap-mapping is
 * left out.
 */
public final class MigrationParameters {
    /** QEMU's MAX_THROTTLE: 128 MiB/s in 7.2. */
    public static final long MAX_THROTTLE = 128L << 20;
    /** MAX_MIGRATE_DOWNTIME in ms. */
    public static final long MAX_MIGRATE_DOWNTIME = 2000L * 1000;
    /**
     * DEFAULT_MIGRATE_CACHE_SIZE: the XBZRLE page cache, 64 MiB. The one source of this default: the table below,
     * the ConfigAdmin metatype and the ram handler (when settings carry no value) all read it here.
     */
    public static final long XBZRLE_CACHE_SIZE_DEFAULT = 64L << 20;

    /** QEMU's MultiFDCompression members that this build offers, by index. */
    public static final List<String> MULTIFD_COMPRESSION = List.of("none", "zlib");
    public static final long MULTIFD_COMPRESSION_ZLIB = 1;

    private static final Map<String, ParameterSpec> SPECS = build();

    /**
     * QEMU 7.2's string parameters implemented here, in QEMU's order: {@code tls-creds} (the id of a tls-creds
     * object; empty = no TLS), {@code tls-hostname} (the name the server's certificate must carry; empty = the
     * URI's host), {@code tls-authz} (the id of an authz object checking the client's distinguished name).
     */
    public static final List<String> TEXT = List.of("tls-creds", "tls-hostname", "tls-authz");

    /** Whether {@code name} is one of the string parameters of {@link #TEXT}. */
    public static boolean isText(String name) {
        return TEXT.contains(name);
    }

    /** Whether multifd packets are zlib-compressed under these settings (multifd-compression zlib). */
    public static boolean multifdZlib(MigrationSettings settings) {
        return settings.parameter("multifd-compression", 0) == MULTIFD_COMPRESSION_ZLIB;
    }

    private MigrationParameters() {
    }

    private static Map<String, ParameterSpec> build() {
        Map<String, ParameterSpec> m = new LinkedHashMap<>();
        add(m, "compress-level", 1, Kind.INTEGER, 0, 9, "a value between 0 and 9");
        add(m, "compress-threads", 8, Kind.INTEGER, 1, 255, "a value between 1 and 255");
        add(m, "compress-wait-thread", 1, Kind.BOOLEAN, 0, 1, "a boolean");
        add(m, "decompress-threads", 2, Kind.INTEGER, 1, 255, "a value between 1 and 255");
        add(m, "throttle-trigger-threshold", 50, Kind.INTEGER, 1, 100, "an integer in the range of 1 to 100");
        add(m, "cpu-throttle-initial", 20, Kind.INTEGER, 1, 99, "an integer in the range of 1 to 99");
        add(m, "cpu-throttle-increment", 10, Kind.INTEGER, 1, 99, "an integer in the range of 1 to 99");
        add(m, "cpu-throttle-tailslow", 0, Kind.BOOLEAN, 0, 1, "a boolean");
        // The lower bound of max-cpu-throttle is cpu-throttle-initial: checked in ParameterCheck.
        add(m, "max-cpu-throttle", 99, Kind.INTEGER, 0, 99, "an integer in the range of cpu_throttle_initial to 99");
        add(m, "max-bandwidth", MAX_THROTTLE, Kind.SIZE, 0, Long.MAX_VALUE,
                "an integer in the range of 0 to (18446744073709551615UL) bytes/second");
        add(m, "downtime-limit", 300, Kind.INTEGER, 0, MAX_MIGRATE_DOWNTIME,
                "an integer in the range of 0 to (2000 * 1000) ms");
        add(m, "x-checkpoint-delay", 20000, Kind.INTEGER, 0, 0xffffffffL, "an integer in the range of 0 to 4294967295");
        add(m, "block-incremental", 0, Kind.BOOLEAN, 0, 1, "a boolean");
        add(m, "multifd-channels", 2, Kind.INTEGER, 1, 255, "a value between 1 and 255");
        m.put("multifd-compression", new ParameterSpec("multifd-compression", "multifd_compression", 0, Kind.ENUM, 0, 1,
                "'none' or 'zlib'", MULTIFD_COMPRESSION));
        add(m, "multifd-zlib-level", 1, Kind.INTEGER, 0, 9, "a value between 0 and 9");
        add(m, "multifd-zstd-level", 1, Kind.INTEGER, 0, 20, "a value between 0 and 20");
        // Power of two no less than the target page size: checked in ParameterCheck.
        add(m, "xbzrle-cache-size", XBZRLE_CACHE_SIZE_DEFAULT, Kind.SIZE, RamBlock.TARGET_PAGE_SIZE, Long.MAX_VALUE,
                "a power of two no less than the target page size");
        add(m, "max-postcopy-bandwidth", 0, Kind.SIZE, 0, Long.MAX_VALUE,
                "an integer in the range of 0 to (18446744073709551615UL) bytes/second");
        add(m, "announce-initial", 50, Kind.INTEGER, 0, 100000, "a value between 0 and 100000");
        add(m, "announce-max", 550, Kind.INTEGER, 0, 100000, "a value between 0 and 100000");
        add(m, "announce-rounds", 5, Kind.INTEGER, 0, 1000, "a value between 0 and 1000");
        // QEMU checks 1..10000 but says "between 0 and 10000"; its wording is kept.
        add(m, "announce-step", 100, Kind.INTEGER, 1, 10000, "a value between 0 and 10000");
        add(m, "send-configuration", 1, Kind.BOOLEAN, 0, 1, "a boolean");
        add(m, "send-section-footer", 1, Kind.BOOLEAN, 0, 1, "a boolean");
        return Collections.unmodifiableMap(m);
    }

    private static void add(Map<String, ParameterSpec> m, String name, long def, Kind kind, long min, long max,
            String expects) {
        m.put(name, new ParameterSpec(name, name.replace('-', '_'), def, kind, min, max, expects));
    }

    /** Whether QEMU 7.2 has a parameter of this name (among those kept here). */
    public static boolean known(String name) {
        return SPECS.containsKey(name);
    }

    /** Every parameter in QEMU's order. */
    public static Map<String, ParameterSpec> all() {
        return SPECS;
    }

    /** The parameter's definition; IllegalArgumentException with QEMU-style wording when there is none. */
    public static ParameterSpec spec(String name) {
        ParameterSpec s = SPECS.get(name);
        if (s == null) {
            throw new IllegalArgumentException("Parameter '" + name + "' is unexpected");
        }
        return s;
    }

    /** Every default value, by name. */
    public static Map<String, Long> defaults() {
        Map<String, Long> m = new LinkedHashMap<>();
        SPECS.values().forEach(s -> m.put(s.name(), s.defaultValue()));
        return m;
    }
}
