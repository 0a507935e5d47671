package org.savevm.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Real QEMU 7.2 migration streams (from ../shared/qemu-corpus, see its README for how each was made) that several
 * modules' tests read, kept once here instead of one copy per module. They are resources of this jar under
 * {@code org/savevm/testing/corpus/}.
 */
public final class CorpusStreams {
    /** {@code -m 16M -S}, never started: configuration, ram, ~30 device sections, vmdesc; the plainest stream. */
    public static final String PAUSED_16M = "paused-16M.mig";
    /** Like {@link #PAUSED_16M} with two {@code isa-serial} devices: "serial" instances 0 and 1. */
    public static final String SERIAL_16M = "serial-16M.mig";

    private static final String DIRECTORY = "corpus/";

    private CorpusStreams() {
    }

    /** Opens the named stream; the caller closes it. Fails naming the stream when there is no such resource. */
    public static InputStream open(String name) throws IOException {
        InputStream in = CorpusStreams.class.getResourceAsStream(DIRECTORY + name);
        if (in == null) {
            throw new IOException("no corpus stream " + name + " in test-support (org/savevm/testing/" + DIRECTORY + ")");
        }
        return in;
    }

    /** The whole named stream. */
    public static byte[] bytes(String name) throws IOException {
        try (InputStream in = open(name)) {
            return in.readAllBytes();
        }
    }

    /** {@link #bytes} for callers that cannot throw a checked exception (static initialisers, lambdas). */
    public static byte[] bytesUnchecked(String name) {
        try {
            return bytes(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
