package org.savevm.migration.params;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import org.savevm.api.settings.MigrationParameters;

/**
 * Metatype of the ConfigAdmin PID {@code org.savevm.migration}. Property names are QEMU's (the
 * {@code $_$} in a method name stands for '-'). Every other numeric parameter of QEMU 7.2 (see
 * {@code info-migrate --parameters}) is read from the configuration under its own name too.
 */
@ObjectClassDefinition(id = "org.savevm.migration", name = "savevm migration",
        description = "Migration capabilities and parameters, QEMU 7.2 names and defaults")
public @interface MigrationConfig {
    @AttributeDefinition(description = "Capabilities switched on, e.g. xbzrle, compress, auto-converge, multifd")
    String[] capabilities() default {};

    @AttributeDefinition(name = "max-bandwidth", description = "Bytes per second, 0 = unlimited (default 128 MiB/s)")
    long max$_$bandwidth() default MigrationParameters.MAX_THROTTLE;

    @AttributeDefinition(name = "downtime-limit", description = "Longest allowed downtime in ms (0..2000000)")
    long downtime$_$limit() default 300;

    @AttributeDefinition(name = "xbzrle-cache-size", description = "XBZRLE page cache bytes, a power of two >= 4096")
    long xbzrle$_$cache$_$size() default MigrationParameters.XBZRLE_CACHE_SIZE_DEFAULT;

    @AttributeDefinition(name = "compress-level", description = "zlib level 0..9")
    long compress$_$level() default 1;

    @AttributeDefinition(name = "compress-threads", description = "Compression threads 1..255")
    long compress$_$threads() default 8;

    @AttributeDefinition(name = "decompress-threads", description = "Decompression threads 1..255")
    long decompress$_$threads() default 2;

    @AttributeDefinition(name = "cpu-throttle-initial", description = "First auto-converge throttle, 1..99 %")
    long cpu$_$throttle$_$initial() default 20;

    @AttributeDefinition(name = "cpu-throttle-increment", description = "Auto-converge throttle step, 1..99 %")
    long cpu$_$throttle$_$increment() default 10;

    @AttributeDefinition(name = "cpu-throttle-tailslow", description = "Smaller steps near the needed throttle")
    boolean cpu$_$throttle$_$tailslow() default false;

    @AttributeDefinition(name = "max-cpu-throttle", description = "Highest auto-converge throttle, initial..99 %")
    long max$_$cpu$_$throttle() default 99;

    @AttributeDefinition(name = "throttle-trigger-threshold", description = "Dirty/transfer ratio in % that counts as too fast")
    long throttle$_$trigger$_$threshold() default 50;
}
