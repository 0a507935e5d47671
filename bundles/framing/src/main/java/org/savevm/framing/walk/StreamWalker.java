package org.savevm.framing.walk;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import org.savevm.framing.commands.MigrationCommand;
import org.savevm.framing.Messages;
import org.savevm.framing.SectionFooter;
import org.savevm.framing.SectionHeader;
import org.savevm.framing.SectionType;
import org.savevm.framing.StreamHeader;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;
import org.savevm.stream.ProgrammingErrors;

/**
 * Walks one QEMU 7.2 stream (qemu_loadvm_state's framing) and hands every record to a
 * {@link StreamVisitor}: header, configuration, START/PART/END/FULL sections (the visitor consumes the
 * body, the walker checks the footer), commands, EOF, the vmdesc trailer. A PACKAGED blob is walked as a
 * nested stream straight from the outer one, bounded to its length and never buffered. Every error is a
 * {@link MigrationStreamException} with the byte offset in the outermost stream; inside a section it
 * names the section's type, idstr, instance and section id. One walker walks one stream.
 */
public final class StreamWalker<S> {
    private static final System.Logger LOG = System.getLogger(StreamWalker.class.getName());
    private final WalkOptions options;
    private final StreamVisitor<S> visitor;
    private final Map<Integer, Started<S>> started = new HashMap<>();
    private Boolean footers;
    private long packageBase;

    private record Started<S>(SectionHeader header, S state) {
    }

    public StreamWalker(WalkOptions options, StreamVisitor<S> visitor) {
        this.options = options;
        this.visitor = visitor;
        this.footers = switch (options.footers()) {
        case PRESENT -> Boolean.TRUE;
        case ABSENT -> Boolean.FALSE;
        case DETECT -> null;
        };
    }

    /** Whether sections have footers; null while {@link WalkOptions.Footers#DETECT} has not seen a body end. */
    public Boolean sectionFooters() {
        return footers;
    }

    /**
     * Where the PACKAGED blob being walked starts in the outermost stream (0 outside any): offsets handed
     * to the visitor inside a blob count from there.
     */
    public long packageBase() {
        return packageBase;
    }

    /** Walks the whole stream: header, configuration, sections up to EOF, then the vmdesc trailer. */
    public void walk(MigrationInput in) throws IOException {
        StreamHeader.read(in);
        visitor.header(StreamHeader.VERSION);
        configuration(in);
        sections(in, 0);
        if (visitor.trailerFollows()) {
            trailer(in);
        }
    }

    /**
     * Goes on with the sections of a stream whose channel broke, on the new channel {@code in} (postcopy
     * recovery: no header, no configuration; sections started before keep their ids), up to EOF and trailer.
     */
    public void resume(MigrationInput in) throws IOException {
        sections(in, 0);
        if (visitor.trailerFollows()) {
            trailer(in);
        }
    }

    private void configuration(MigrationInput in) throws IOException {
        if (options.configuration() == WalkOptions.Configuration.ABSENT) {
            return;
        }
        long at = in.position();
        if (options.configuration() == WalkOptions.Configuration.OPTIONAL) {
            if (in.peekByte() != SectionType.CONFIGURATION) {
                return;
            }
            in.getByte();
        } else {
            int type = in.getByte();
            if (type != SectionType.CONFIGURATION) {
                throw new MigrationStreamException("Configuration section missing (found section type "
                        + SectionType.name(type) + "; the stream may have been written with send-configuration off)", at);
            }
        }
        try {
            visitor.configuration(ConfigurationRecord.read(in, at, options.knownCapabilities()));
        } catch (MigrationStreamException e) {
            throw Messages.prefixed("configuration section", e);
        }
    }

    /** Sections up to EOF, or to the end of the blob when {@code depth} > 0. */
    private void sections(MigrationInput in, int depth) throws IOException {
        while (true) {
            if (depth > 0 && in.atEnd()) {
                return;
            }
            long at = in.position();
            int type;
            try {
                type = in.getByte();
            } catch (MigrationStreamException e) {
                throw Messages.prefixed("stream ended where a section type was expected (no EOF marker)", e);
            }
            switch (type) {
            case SectionType.START:
            case SectionType.FULL: {
                SectionHeader h = header(in, type, at);
                S state = visitor.section(h, null);
                started.put(h.sectionId(), new Started<>(h, state));
                body(in, h, state);
                break;
            }
            case SectionType.PART:
            case SectionType.END: {
                SectionHeader h = header(in, type, at);
                Started<S> s = started.get(h.sectionId());
                if (s == null) {
                    throw new MigrationStreamException("Unknown savevm section " + Integer.toUnsignedString(h.sectionId())
                            + " (" + SectionType.name(type) + " without a START)", at);
                }
                h = s.header().continuedAs(type, at);
                body(in, h, visitor.section(h, s.state()));
                break;
            }
            case SectionType.COMMAND: {
                StreamCommand c = StreamCommand.read(in, at);
                visitor.command(c);
                if (c.command() == MigrationCommand.PACKAGED) {
                    packaged(in, c, depth);
                }
                break;
            }
            case SectionType.EOF:
                visitor.eof(at);
                return;
            case SectionType.FOOTER:
                throw new MigrationStreamException("Unknown savevm section type 126: a section footer where a section"
                        + " should start" + (options.footers() == WalkOptions.Footers.ABSENT
                                ? " (the stream has section footers but send-section-footer is off here)" : ""), at);
            default:
                throw new MigrationStreamException("Unknown savevm section type " + type, at);
            }
        }
    }

    private static SectionHeader header(MigrationInput in, int type, long at) throws IOException {
        try {
            return type == SectionType.START || type == SectionType.FULL ? SectionHeader.readStartOrFull(in, type, at)
                    : SectionHeader.readPartOrEnd(in, type, at);
        } catch (MigrationStreamException e) {
            throw Messages.prefixed(SectionType.name(type) + " section header cut short", e);
        }
    }

    private void body(MigrationInput in, SectionHeader h, S state) throws IOException {
        try {
            visitor.body(state, h, in);
            if (footers == null) {
                footers = in.peekByte() == SectionType.FOOTER;
            }
            if (footers) {
                SectionFooter.check(in, visitor.footerName(state, h), h.sectionId());
            }
            visitor.sectionEnd(state, h, in.position() - h.offset());
        } catch (MigrationStreamException e) {
            throw Messages.prefixed(context(h), e);
        } catch (RuntimeException e) {
            if (ProgrammingErrors.is(e)) {
                throw e; // a bug, not a bad stream: surfaces as what it is
            }
            throw new MigrationStreamException(context(h) + ": " + e, in.position(), e);
        } catch (IOException e) {
            // a visitor's own exception (not a stream error): keep its type when it has no message
            String what = e.getMessage() != null ? e.getMessage() : e.toString();
            throw new MigrationStreamException(context(h) + ": " + what, in.position(), e);
        }
    }

    /**
     * What an error inside a section's body is prefixed with. Built only when there is an error: built for every
     * section, its string concatenation cost each section, and its first one bootstrapped the concatenation's
     * method handles on the load thread of a cold destination (~20 ms at the first section of a migration).
     */
    private static String context(SectionHeader h) {
        return h.typeName() + " " + h.describe() + " (section id " + Integer.toUnsignedString(h.sectionId())
                + ", starting at byte " + h.offset() + ")";
    }

    /** PACKAGED: the next {@code length} bytes are a nested stream (no header) walked by the same loop. */
    private void packaged(MigrationInput outer, StreamCommand c, int depth) throws IOException {
        long length = c.value();
        if (length > options.maxPackagedLength()) {
            throw new MigrationStreamException("Unreasonably large packaged state: " + length + " (limit "
                    + options.maxPackagedLength() + ")", c.offset());
        }
        if (depth >= WalkOptions.MAX_PACKAGE_DEPTH) {
            throw new MigrationStreamException("PACKAGED blobs nested deeper than " + WalkOptions.MAX_PACKAGE_DEPTH,
                    c.offset());
        }
        long start = outer.position();
        BoundedChannel blob = new BoundedChannel(outer, length);
        MigrationInput nested = new MigrationInput(blob, 16 * 1024);
        long outerBase = packageBase;
        packageBase = outerBase + start;
        try {
            sections(nested, depth + 1);
        } catch (MigrationStreamException e) {
            throw new MigrationStreamException("in the PACKAGED blob of " + length + " bytes (command at byte "
                    + c.offset() + "): " + Messages.strip(e), start + e.offset(), e);
        } finally {
            packageBase = outerBase;
        }
        // an EOF inside the blob ends it; what follows is dropped, as QEMU frees the buffer
        outer.skip(blob.remaining());
        visitor.packageEnd(c);
    }

    /**
     * What follows the outermost EOF: nothing, or a vmdesc trailer whose JSON the visitor may read
     * ({@link StreamVisitor#vmdescJson}) and the walker skips to its end. Strict (analysis): anything else is
     * an error. Lenient (QEMU's loader): a foreign, oversized or cut trailer does not fail the stream (the
     * machine state before EOF is complete); it is logged and the walk ends.
     */
    private void trailer(MigrationInput in) throws IOException {
        if (in.atEnd()) {
            visitor.noTrailer();
            return;
        }
        long at = in.position();
        try {
            int type = in.getByte();
            if (type != SectionType.VMDESCRIPTION) {
                String what = String.format("byte 0x%02x after the EOF marker where the vmdesc "
                        + "trailer (0x06) or the end of the file was expected", type);
                if (options.strictTrailer()) {
                    throw new MigrationStreamException(what, at);
                }
                LOG.log(System.Logger.Level.WARNING, what + " (byte offset " + at + "): trailer not read");
                return;
            }
            long len = Integer.toUnsignedLong(in.getBe32());
            visitor.vmdescTrailer(at, len);
            if (len > options.maxVmdescLength()) {
                String what = "vmdesc trailer of " + len + " bytes exceeds the limit of " + options.maxVmdescLength();
                if (options.strictTrailer()) {
                    throw new MigrationStreamException(what, at);
                }
                LOG.log(System.Logger.Level.WARNING, what + " (byte offset " + at + "): not read");
                return;
            }
            long start = in.position();
            visitor.vmdescJson(in, len);
            long read = in.position() - start;
            if (read > len) {
                throw new IllegalStateException("the visitor read " + read + " bytes of a " + len + "-byte vmdesc trailer");
            }
            in.skip(len - read);
        } catch (MigrationStreamException e) {
            if (options.strictTrailer()) {
                throw e;
            }
            LOG.log(System.Logger.Level.WARNING, "vmdesc trailer at byte offset " + at + " cut short: " + e.getMessage());
        }
    }
}
