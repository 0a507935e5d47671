package org.savevm.stream;

import java.nio.BufferOverflowException;
import java.nio.BufferUnderflowException;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The exceptions that mean a bug in our own code, never a bad stream: null dereferences, index and buffer
 * bounds, casts, arithmetic, illegal state, unsupported operations and missing elements, and an
 * IllegalArgumentException thrown by the JDK itself (a bad argument we passed to it, e.g. a negative
 * position or capacity computed from stream bytes; our own IllegalArgumentExceptions are refusals). Loaders let them surface as what they are instead of wrapping
 * them into a {@link MigrationStreamException} (a stream error in front of a bug hides it, and a test that
 * expects the stream error type would pass on it); fuzz oracles look for them in cause chains.
 */
public final class ProgrammingErrors {
    private ProgrammingErrors() {
    }

    /** Whether {@code t} itself is a programming error. */
    public static boolean is(Throwable t) {
        return t instanceof NullPointerException || t instanceof IndexOutOfBoundsException
                || t instanceof ClassCastException || t instanceof ArithmeticException
                || t instanceof IllegalStateException || t instanceof NegativeArraySizeException
                || t instanceof BufferUnderflowException || t instanceof BufferOverflowException
                || t instanceof ArrayStoreException || t instanceof UnsupportedOperationException
                || t instanceof java.util.NoSuchElementException
                || t instanceof IllegalArgumentException && thrownByTheJdk(t);
    }

    /** Whether {@code t} was thrown inside the JDK's own classes. */
    private static boolean thrownByTheJdk(Throwable t) {
        StackTraceElement[] trace = t.getStackTrace();
        if (trace.length == 0) {
            return false;
        }
        String module = trace[0].getModuleName();
        String cls = trace[0].getClassName();
        return module != null && (module.startsWith("java.") || module.startsWith("jdk."))
                || cls.startsWith("java.") || cls.startsWith("javax.") || cls.startsWith("jdk.") || cls.startsWith("sun.");
    }

    /** The first programming error in {@code t}'s cause chain (t included, suppressed ones too), or null. */
    public static Throwable find(Throwable t) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        return find(t, seen);
    }

    private static Throwable find(Throwable t, Map<Throwable, Boolean> seen) {
        for (Throwable c = t; c != null && seen.put(c, Boolean.TRUE) == null; c = c.getCause()) {
            if (is(c)) {
                return c;
            }
            for (Throwable s : c.getSuppressed()) {
                Throwable f = find(s, seen);
                if (f != null) {
                    return f;
                }
            }
        }
        return null;
    }
}
