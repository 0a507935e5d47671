package org.savevm.api.analyze;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

import org.savevm.api.ForeignSections;

/**
 * Makes {@link ForeignSections} for a stream that can be read at any position before it is loaded (a snapshot's VM
 * state, a stream file): its vmdesc trailer is located from the end and read, and each FULL section it describes can
 * then be read past with the VMState engine.
 */
public interface ForeignSectionReaders {
    /** Reads up to {@code dst.remaining()} bytes at {@code position}; the count read, -1 at the end. */
    @FunctionalInterface
    interface PositionalReader {
        int read(ByteBuffer dst, long position) throws IOException;
    }

    /**
     * The reader of the sections described by the vmdesc trailer of the stream of {@code size} bytes; empty when the
     * stream has no trailer. A trailer found but unusable is an IOException naming its offset.
     */
    Optional<ForeignSections> forStream(PositionalReader stream, long size) throws IOException;
}
