package org.savevm.api;

import java.io.IOException;

import org.savevm.stream.MigrationInput;

/**
 * Reads device sections that no handler here is registered for, so that a load can go on past them instead of
 * failing at the first one (QEMU's loader fails: "Unknown savevm section or instance"). A FULL device section has no
 * length on the wire; only a description of its fields says where it ends, and a stream carries that description
 * in its vmdesc trailer, after its last section. Whoever starts a load from storage it can read in any order (a
 * snapshot's VM state, a file) may read the trailer first and publish this in the load's {@link MigrationContext};
 * the core then hands it every FULL section it has no handler for and names what was skipped in the
 * {@link LoadReport}.
 */
public interface ForeignSections {
    /**
     * Reads the body of FULL section {@code idstr} instance {@code instanceId}, stream version {@code version},
     * from {@code in} exactly to its end and discards it. Returns false, having read nothing, when this stream
     * does not describe such a section; a body that does not fit its description is an IOException naming where.
     */
    boolean skip(String idstr, long instanceId, int version, MigrationInput in) throws IOException;
}
