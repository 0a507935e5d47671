package org.savevm.demo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a demo child: same java, the savevm jar, and memory limits that keep guest RAM
 * off the heap: heap of 64 MiB + 2 % of guest RAM (plus the XBZRLE cache, which lives on the heap),
 * direct memory for the RAM and the stream buffers.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    public static long heapBytes(long ram, long xbzrleCache) {
        return (64L << 20) + ram / 50 + xbzrleCache;
    }

    public static long directBytes(long ram) {
        return ram + (64L << 20);
    }

    public static List<String> command(String jar, long ram, long xbzrleCache, String subcommand, List<String> args) {
        return command(jar, ram, xbzrleCache, List.of(), subcommand, args);
    }

    /** With launcher options (machine options such as {@code --ram}, {@code --disk}) before the subcommand. */
    public static List<String> command(String jar, long ram, long xbzrleCache, List<String> launcherOptions,
            String subcommand, List<String> args) {
        List<String> c = new ArrayList<>();
        c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        c.add("-Xmx" + (heapBytes(ram, xbzrleCache) >> 20) + "m");
        c.add("-XX:MaxDirectMemorySize=" + (directBytes(ram) >> 20) + "m");
        c.add("-XX:+UseSerialGC");
        // Each child lives for one migration: C2 compiling the data path while it runs took CPU from the
        // migration on two vCPUs (1 GiB incompressible: median 755 ms with tiered C2, 581 ms with C1 only;
        // zeros 247 -> 162 ms); the data path is copies and system calls, C1 code is fast enough for it.
        c.add("-XX:TieredStopAtLevel=1");
        // extra options for both children, e.g. a profiler: SAVEVM_DEMO_JVM_OPTS="-XX:StartFlightRecording=..."
        String extra = System.getenv("SAVEVM_DEMO_JVM_OPTS");
        if (extra != null && !extra.isBlank()) {
            c.addAll(List.of(extra.trim().split("\\s+")));
        }
        c.add("-jar");
        c.add(jar);
        c.addAll(launcherOptions);
        c.add(subcommand);
        c.addAll(args);
        return c;
    }
}
