package org.savevm.framing;

import java.io.IOException;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * A section header as QEMU's save_section_header writes it. START and FULL carry the idstr, instance
 * and version; PART and END only the section id (idstr null, instance and version -1).
 *
 * @param offset stream offset of the type byte, for messages
 */
public record SectionHeader(int type, int sectionId, String idstr, int instanceId, int version, long offset) {

    public boolean isStartOrFull() {
        return type == SectionType.START || type == SectionType.FULL;
    }

    /** "START", "PART", "END" or "FULL". */
    public String typeName() {
        return SectionType.name(type);
    }

    /** "section 'X' instance N": the stream's names, which the user can find in the stream. */
    public String describe() {
        return "section '" + idstr + "' instance " + Integer.toUnsignedString(instanceId);
    }

    /** A PART or END header of this (START) section: its type and offset with this one's names. */
    public SectionHeader continuedAs(int partType, long partOffset) {
        return new SectionHeader(partType, sectionId, idstr, instanceId, version, partOffset);
    }

    public static void writeStartOrFull(MigrationOutput out, int type, int sectionId, String idstr, int instanceId,
            int version) {
        out.putByte(type);
        out.putBe32(sectionId);
        out.putCountedString(idstr);
        out.putBe32(instanceId);
        out.putBe32(version);
    }

    public static void writePartOrEnd(MigrationOutput out, int type, int sectionId) {
        out.putByte(type);
        out.putBe32(sectionId);
    }

    /** Reads the rest of a START/FULL header whose type byte (at {@code offset}) was already read. */
    public static SectionHeader readStartOrFull(MigrationInput in, int type, long offset) throws IOException {
        int sectionId = in.getBe32();
        String idstr;
        try {
            idstr = in.getCountedString();
        } catch (MigrationStreamException e) {
            throw new MigrationStreamException("Unable to read ID string for section " + Integer.toUnsignedString(
                    sectionId) + ": " + Messages.strip(e), e.offset(), e);
        }
        int instanceId = in.getBe32();
        int version = in.getBe32();
        return new SectionHeader(type, sectionId, idstr, instanceId, version, offset);
    }

    /** Reads the rest of a PART/END header whose type byte (at {@code offset}) was already read. */
    public static SectionHeader readPartOrEnd(MigrationInput in, int type, long offset) throws IOException {
        return new SectionHeader(type, in.getBe32(), null, -1, -1, offset);
    }
}
