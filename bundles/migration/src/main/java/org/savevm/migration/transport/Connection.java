package org.savevm.migration.transport;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/** One open migration channel: the source writes into it, the destination reads from it. */
public interface Connection extends Closeable {
    /** The channel the source writes the stream into. */
    WritableByteChannel output() throws IOException;

    /** The channel the destination reads the stream from. */
    ReadableByteChannel input() throws IOException;

    /**
     * The source has written everything: half-close sockets so the destination sees the end of the stream
     * (a loader looking for an optional trailer, as after a postcopy EOF, stops there), while the return
     * path stays open for the destination's SHUT.
     */
    default void finishOutput() throws IOException {
    }

    /**
     * Breaks the connection from another thread so that blocked reads and writes fail at once (QEMU's
     * qemu_file_shutdown on cancel). Idempotent.
     */
    void abort();

    /** Closes and, for {@code exec:}, waits for the command; an exec command's failure is reported here. */
    @Override
    void close() throws IOException;
}
