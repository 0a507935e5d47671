package org.savevm.framing.walk;

import java.io.IOException;

import org.savevm.framing.SectionHeader;
import org.savevm.stream.MigrationInput;

/**
 * The callbacks of a {@link StreamWalker}, one per record kind, in stream order. {@code S} is the
 * visitor's own state of a section, made at its START or FULL header and handed back with every PART
 * and END of the same section id. Offsets in records are positions in the outermost stream; inside a
 * PACKAGED blob, {@code in.position()} counts from the start of the blob.
 */
public interface StreamVisitor<S> {

    /** The file header was read and checked (magic "QEVM", version 3). */
    default void header(int version) throws IOException {
    }

    /** The configuration section, when the stream has one. */
    default void configuration(ConfigurationRecord configuration) throws IOException {
    }

    /**
     * A section header. For START and FULL {@code started} is null and the result is kept for the section
     * id; for PART and END {@code started} is that kept state and the header carries the START's idstr,
     * instance and version. Errors thrown here are not prefixed with the section.
     */
    S section(SectionHeader header, S started) throws IOException;

    /**
     * The body of a section: the visitor must consume exactly it, the walker checks the footer after.
     * Errors thrown here (and in {@link #sectionEnd}) are prefixed with the section's type, idstr,
     * instance, section id and offset.
     */
    void body(S section, SectionHeader header, MigrationInput in) throws IOException;

    /** The section's footer checked out; {@code length} counts from the type byte to the end of the footer. */
    default void sectionEnd(S section, SectionHeader header, long length) throws IOException {
    }

    /** The idstr a footer mismatch names: QEMU names the local section, which a compat idstr can differ from. */
    default String footerName(S section, SectionHeader header) {
        return header.idstr();
    }

    /** A command. For PACKAGED the blob's sections follow, then {@link #packageEnd}. */
    default void command(StreamCommand command) throws IOException {
    }

    /** The end of the PACKAGED blob of {@code command}. */
    default void packageEnd(StreamCommand command) throws IOException {
    }

    /** The EOF marker (also the one that ends a PACKAGED blob). */
    default void eof(long offset) throws IOException {
    }

    /** Asked after the outermost EOF: false when no vmdesc trailer can follow (a stream gone to postcopy). */
    default boolean trailerFollows() {
        return true;
    }

    /** The vmdesc trailer's framing; its JSON follows (see {@link #vmdescJson}). */
    default void vmdescTrailer(long offset, long length) throws IOException {
    }

    /**
     * The vmdesc trailer's JSON, {@code length} bytes from where {@code in} stands (only when within the
     * walk's limit): the visitor reads as much of it as it wants, never more than {@code length}, and the
     * walker skips the rest. On a lenient walk a stream error thrown here (a cut trailer) is logged, not
     * passed on.
     */
    default void vmdescJson(MigrationInput in, long length) throws IOException {
    }

    /** The stream ended after EOF without a vmdesc trailer. */
    default void noTrailer() throws IOException {
    }
}
