package org.savevm.testing.fuzz;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

import org.savevm.stream.ProgrammingErrors;

/**
 * The one oracle of every fuzz target (issue 13): an input may be accepted, or refused with one of the
 * target's own error types, and nothing else.
 *
 * <ul>
 * <li><b>Refusal type</b>: any throwable that is not an instance of the target's refusal types is a finding
 * (a NullPointerException, an index or a cast exception thrown by the code under test, an Error, ...).</li>
 * <li><b>Cause chain</b>: a refusal whose cause chain (suppressed exceptions included) holds a programming
 * error ({@link ProgrammingErrors}: null, index, cast, arithmetic, illegal state, NegativeArraySize, an
 * IllegalArgumentException thrown by the JDK, ...) is a finding: the refusal only wraps a bug.</li>
 * <li><b>Watchdog</b>: an input that takes more than {@link #WATCHDOG_MILLIS} of the calling thread's CPU
 * time is a finding (CPU, not wall time: on a loaded CI machine a 350 KB stream may take 6 s of wall time
 * for 1 s of work), and so is one that takes more than {@link #WALL_MILLIS} of wall time (a blocked
 * input). In fuzzing mode libFuzzer's watchdog ({@code -timeout=30}, set by the Maven profile "fuzz") also
 * catches an input that never returns and keeps it as a crash file. (Not JUnit's {@code @Timeout}: Jazzer's fuzzing run is one
 * invocation of the test method, which it would stop after 5 s.)</li>
 * <li><b>Heap cap</b>: the bytes the calling thread allocated for one input (the JVM's per-thread
 * allocation counter, {@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}) may not exceed
 * {@link #allocationBudget}: a fixed allowance plus a multiple of the input's length. An input that makes
 * the code allocate what the input cannot carry (a length field believed, a 1 TiB block buffered) fails
 * even when the heap happens to be large enough; a JVM heap cap ({@code -Xmx} of the fuzz runs) stops the
 * rest. Threads the code under test starts itself (decompress threads) are not counted.</li>
 * </ul>
 *
 * <p>Each oracle counts its inputs and outcomes (accepted, or the refusal's class) and prints one line per
 * target when the test class ends ({@link #report}); the line is what CI and {@code fuzz/campaign.sh} quote.
 */
public final class FuzzOracle {
    /** The per-input watchdog: CPU time of the calling thread. */
    public static final long WATCHDOG_MILLIS = 5_000;
    /** The per-input watchdog on wall time, for inputs that block instead of compute. */
    public static final long WALL_MILLIS = 30_000;
    /** What any input may allocate on the calling thread besides {@link #BYTES_PER_INPUT_BYTE} per input byte. */
    public static final long FIXED_ALLOWANCE = 64L << 20;
    /** The allocation allowed per input byte (copies, decoded JSON trees, decompressed pages). */
    public static final long BYTES_PER_INPUT_BYTE = 64;

    /** The code under test, run once per input. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    private static final com.sun.management.ThreadMXBean THREADS = threads();

    private final String target;
    private final List<Class<? extends Throwable>> refusals;
    /** When the first input came (class initialisation and Jazzer's start-up are not the target's time). */
    private volatile long started;
    private final AtomicLong inputs = new AtomicLong();
    private final Map<String, AtomicLong> outcomes = new TreeMap<>();

    /**
     * @param target   the name printed (test class and method)
     * @param refusals the project's error types an input may be refused with
     */
    @SafeVarargs
    public FuzzOracle(String target, Class<? extends Throwable>... refusals) {
        this.target = target;
        this.refusals = List.of(refusals);
    }

    private static com.sun.management.ThreadMXBean threads() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                && t.isThreadAllocatedMemorySupported()) {
            t.setThreadAllocatedMemoryEnabled(true);
            return t;
        }
        return null;
    }

    private static long cpuNanos() {
        return THREADS != null && THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : -1;
    }

    /** The most the calling thread may allocate for an input of {@code inputLength} bytes. */
    public static long allocationBudget(long inputLength) {
        return FIXED_ALLOWANCE + BYTES_PER_INPUT_BYTE * inputLength;
    }

    /** Runs one input through {@code body} and throws an AssertionError on a finding. */
    public void check(long inputLength, Body body) {
        if (inputs.getAndIncrement() == 0) {
            started = System.nanoTime();
        }
        long allocatedBefore = THREADS == null ? 0 : THREADS.getCurrentThreadAllocatedBytes();
        long cpu0 = cpuNanos();
        long t0 = System.nanoTime();
        String outcome = "accepted";
        try {
            body.run();
        } catch (Throwable t) {
            outcome = judge(t);
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        long cpuMillis = cpu0 < 0 ? millis : (cpuNanos() - cpu0) / 1_000_000;
        if (cpuMillis > WATCHDOG_MILLIS || millis > WALL_MILLIS) {
            throw new AssertionError("watchdog: one input of " + inputLength + " bytes took " + cpuMillis
                    + " ms of CPU, " + millis + " ms in all (limits " + WATCHDOG_MILLIS + " and " + WALL_MILLIS
                    + " ms), outcome " + outcome);
        }
        if (THREADS != null) {
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore;
            if (allocated > allocationBudget(inputLength)) {
                // class loading (and Jazzer's instrumentation of each class as it loads) is allocated on this
                // thread too: measure the same input again, warm, before calling it a finding
                long again = THREADS.getCurrentThreadAllocatedBytes();
                try {
                    body.run();
                } catch (Throwable ignored) {
                    // judged above
                }
                allocated = THREADS.getCurrentThreadAllocatedBytes() - again;
            }
            if (allocated > allocationBudget(inputLength)) {
                throw new AssertionError("heap cap: one input of " + inputLength + " bytes allocated " + allocated
                        + " bytes (budget " + allocationBudget(inputLength) + "), outcome " + outcome);
            }
        }
        synchronized (outcomes) {
            outcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
        }
    }

    /** The outcome name of an allowed refusal; throws AssertionError for a finding. */
    private String judge(Throwable t) {
        boolean allowed = false;
        for (Class<? extends Throwable> r : refusals) {
            allowed |= r.isInstance(t);
        }
        if (!allowed) {
            throw new AssertionError("not a refusal of this target (" + refusals + "): " + t, t);
        }
        Throwable bug = programmingError(t);
        if (bug != null) {
            throw new AssertionError("a programming error behind the refusal \"" + t.getMessage() + "\"", bug);
        }
        return t.getClass().getSimpleName();
    }

    /**
     * The first programming error in {@code t}'s cause chain ({@link ProgrammingErrors#find}: null, index,
     * cast, arithmetic, illegal state, an IllegalArgumentException thrown by the JDK, ...), or null.
     */
    public static Throwable programmingError(Throwable t) {
        return ProgrammingErrors.find(t);
    }

    public long inputs() {
        return inputs.get();
    }

    /**
     * The target's line: {@code fuzz: TARGET inputs=N seconds=S inputs/s=R outcomes={accepted=..,
     * MigrationStreamException=..}}, printed to {@code out} and appended to {@code target/fuzz-stats.txt}
     * of the module (the working directory of surefire's fork) for the campaign script.
     */
    public String report(PrintStream out) {
        double seconds = inputs.get() == 0 ? 0 : (System.nanoTime() - started) / 1e9;
        String line;
        synchronized (outcomes) {
            line = String.format(java.util.Locale.ROOT, "fuzz: %s inputs=%d seconds=%.1f inputs/s=%.0f mode=%s outcomes=%s",
                    target, inputs.get(), seconds, inputs.get() / Math.max(seconds, 1e-3),
                    "1".equals(System.getenv("JAZZER_FUZZ")) ? "fuzzing" : "regression", outcomes);
        }
        out.println(line);
        try {
            Path stats = Path.of("target", "fuzz-stats.txt");
            if (Files.isDirectory(stats.getParent())) {
                Files.writeString(stats, line + System.lineSeparator(), StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return line;
    }
}
