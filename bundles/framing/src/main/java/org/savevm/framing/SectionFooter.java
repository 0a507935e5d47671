package org.savevm.framing;

import java.io.IOException;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/** The section footer (0x7e + be32 section id) after every START/PART/END/FULL body when footers are on. */
public final class SectionFooter {
    private SectionFooter() {
    }

    public static void write(MigrationOutput out, int sectionId) {
        out.putByte(SectionType.FOOTER);
        out.putBe32(sectionId);
    }

    /** QEMU's check_section_footer, with its messages; {@code idstr} names the section. */
    public static void check(MigrationInput in, String idstr, int expectedSectionId) throws IOException {
        long at = in.position();
        int mark = in.getByte();
        if (mark != SectionType.FOOTER) {
            throw new MigrationStreamException("Missing section footer for " + idstr + String.format(
                    " (found byte 0x%02x; the stream may have been written with send-section-footer off)", mark), at);
        }
        long idAt = in.position();
        int read = in.getBe32();
        if (read != expectedSectionId) {
            throw new MigrationStreamException(String.format("Mismatched section id in footer for %s - read 0x%x expected 0x%x",
                    idstr, read, expectedSectionId), idAt);
        }
    }
}
