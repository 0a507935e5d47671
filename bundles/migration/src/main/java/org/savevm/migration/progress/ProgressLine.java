package org.savevm.migration.progress;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar redrawn in place with a carriage return, for terminals only: callers decide
 * with {@link #isTerminal()}. Draws at most every {@code minIntervalMillis}.
 */
public final class ProgressLine {
    private static final int BAR = 30;

    private final PrintStream out;
    private final long minIntervalNanos;
    private long lastDraw;
    private int lastLength;
    private boolean drawn;

    public ProgressLine(PrintStream out, long minIntervalMillis) {
        this.out = out;
        this.minIntervalNanos = minIntervalMillis * 1_000_000L;
    }

    /** True when this JVM's standard output is an interactive terminal. */
    public static boolean isTerminal() {
        return System.console() != null;
    }

    /** The text of one line: bar, percent, then {@code detail}. */
    public static String render(double fraction, String detail) {
        double f = Math.max(0, Math.min(1, fraction));
        int full = (int) Math.round(f * BAR);
        StringBuilder sb = new StringBuilder(BAR + 16 + detail.length());
        sb.append('[');
        for (int i = 0; i < BAR; i++) {
            sb.append(i < full ? '#' : '.');
        }
        sb.append("] ").append(String.format(Locale.ROOT, "%5.1f%%", f * 100)).append(' ').append(detail);
        return sb.toString();
    }

    public synchronized void update(double fraction, String detail) {
        long now = System.nanoTime();
        if (drawn && now - lastDraw < minIntervalNanos) {
            return;
        }
        lastDraw = now;
        String line = render(fraction, detail);
        StringBuilder sb = new StringBuilder("\r").append(line);
        for (int i = line.length(); i < lastLength; i++) {
            sb.append(' ');
        }
        lastLength = line.length();
        out.print(sb);
        out.flush();
        drawn = true;
    }

    /** Ends the line so that later output starts on a fresh one. */
    public synchronized void finish() {
        if (drawn) {
            out.println();
            drawn = false;
        }
    }
}
