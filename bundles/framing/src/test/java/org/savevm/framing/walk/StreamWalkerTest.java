package org.savevm.framing.walk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.framing.SectionFooter;
import org.savevm.framing.SectionHeader;
import org.savevm.framing.SectionType;
import org.savevm.framing.StreamHeader;
import org.savevm.framing.VmDescription;
import org.savevm.framing.commands.CommandWriter;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/** The walker's callbacks, offsets and checks on hand-made streams whose every byte is known. */
class StreamWalkerTest {
    interface Writing {
        void write(MigrationOutput o, CommandWriter w) throws IOException;
    }

    static byte[] bytes(Writing body) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (MigrationOutput o = MigrationOutput.of(b)) {
            body.write(o, new CommandWriter(o));
        }
        return b.toByteArray();
    }

    /**
     * A configuration section without subsections, as the savevm core writes it with default settings (the
     * core's own writer is tested against QEMU in the savevm bundle; the walker only reads the record).
     */
    static void configuration(MigrationOutput o, String machineType) {
        byte[] name = machineType.getBytes(StandardCharsets.US_ASCII);
        o.putByte(SectionType.CONFIGURATION);
        o.putBe32(name.length);
        o.putBytes(name);
    }

    /** A section of {@code idstr} whose body is {@code body.length} bytes. */
    static void section(MigrationOutput o, int type, int id, String idstr, byte[] body, boolean footer) {
        if (type == SectionType.START || type == SectionType.FULL) {
            SectionHeader.writeStartOrFull(o, type, id, idstr, 0, 1);
        } else {
            SectionHeader.writePartOrEnd(o, type, id);
        }
        o.putBytes(body);
        if (footer) {
            SectionFooter.write(o, id);
        }
    }

    /** Records every callback; a body is as many bytes as its idstr is long. */
    static final class Recorder implements StreamVisitor<String> {
        final List<String> events = new ArrayList<>();
        StreamWalker<String> walker;

        @Override
        public void configuration(ConfigurationRecord c) {
            events.add("config " + c.machineType() + " at " + c.offset() + " len " + c.length());
        }

        @Override
        public String section(SectionHeader h, String started) {
            events.add(h.typeName() + " " + h.idstr() + " id " + h.sectionId() + " at " + h.offset() + " base "
                    + walker.packageBase() + (started != null ? " of " + started : ""));
            return started != null ? started : h.idstr() + "@" + h.offset();
        }

        @Override
        public void body(String s, SectionHeader h, MigrationInput in) throws IOException {
            in.skip(h.idstr().length());
        }

        @Override
        public void sectionEnd(String s, SectionHeader h, long length) {
            events.add("end " + h.idstr() + " len " + length);
        }

        @Override
        public void command(StreamCommand c) {
            events.add(c.command() + " at " + c.offset() + " value " + c.value());
        }

        @Override
        public void packageEnd(StreamCommand c) {
            events.add("package end");
        }

        @Override
        public void eof(long offset) {
            events.add("EOF at " + offset);
        }

        @Override
        public void vmdescTrailer(long offset, long length) {
            events.add("vmdesc at " + offset + " len " + length);
        }

        @Override
        public void noTrailer() {
            events.add("no trailer");
        }
    }

    static final WalkOptions ANALYSIS = new WalkOptions(WalkOptions.Footers.DETECT, WalkOptions.Configuration.OPTIONAL,
            null, true, 1 << 20, 0xffffffffL);

    static Recorder walk(byte[] s, WalkOptions options) throws IOException {
        Recorder r = new Recorder();
        r.walker = new StreamWalker<>(options, r);
        r.walker.walk(MigrationInput.of(s));
        return r;
    }

    @Test
    void everyRecordInStreamOrderWithOffsetsAndNestedPackages() throws IOException {
        byte[] blob = bytes((o, w) -> {
            section(o, SectionType.FULL, 5, "in", new byte[2], true);
            o.putByte(SectionType.EOF);
            o.putBytes(new byte[] { 9, 9 }); // after the blob's EOF: dropped
        });
        String json = new VmDescription(4096).finish();
        byte[] s = bytes((o, w) -> {
            StreamHeader.write(o);
            configuration(o, "pc-i440fx-7.2");
            section(o, SectionType.START, 1, "live", new byte[4], true);
            w.ping(7);
            section(o, SectionType.PART, 1, null, new byte[4], true);
            w.packaged(blob);
            section(o, SectionType.END, 1, null, new byte[4], true);
            o.putByte(SectionType.EOF);
            VmDescription.writeTrailer(o, json);
        });
        Recorder r = walk(s, ANALYSIS);
        // header 8, configuration 18 (0x07, be32 13, "pc-i440fx-7.2"); START at 26: 18 header, 4 body, 5 footer;
        // PING 9; PART 5 + 4 + 5; PACKAGED 9, then the blob: FULL 16 + 2 + 5, EOF, 2 dropped bytes
        int blobAt = 26 + 27 + 9 + 14 + 9;
        assertEquals(26, blob.length);
        assertEquals(List.of(
                "config pc-i440fx-7.2 at 8 len 18",
                "START live id 1 at 26 base 0",
                "end live len 27",
                "PING at 53 value 7",
                "PART live id 1 at 62 base 0 of live@26",
                "end live len 14",
                "PACKAGED at 76 value 26",
                "FULL in id 5 at 0 base " + blobAt,
                "end in len 23",
                "EOF at 23",
                "package end",
                "END live id 1 at " + (blobAt + blob.length) + " base 0 of live@26",
                "end live len 14",
                "EOF at " + (blobAt + blob.length + 14),
                "vmdesc at " + (blobAt + blob.length + 15) + " len " + json.length()), r.events);
        assertEquals(Boolean.TRUE, r.walker.sectionFooters());
    }

    @Test
    void footersAreDetectedAbsentAndConfigurationOptional() throws IOException {
        byte[] s = bytes((o, w) -> {
            StreamHeader.write(o);
            section(o, SectionType.FULL, 2, "dev", new byte[3], false);
            o.putByte(SectionType.EOF);
        });
        Recorder r = walk(s, ANALYSIS);
        assertEquals(List.of("FULL dev id 2 at 8 base 0", "end dev len 20", "EOF at 28", "no trailer"), r.events);
        assertEquals(Boolean.FALSE, r.walker.sectionFooters());
    }

    @Test
    void refusalsNameTheSectionAndTheOffset() throws IOException {
        byte[] partWithoutStart = bytes((o, w) -> {
            StreamHeader.write(o);
            section(o, SectionType.PART, 4, null, new byte[0], true);
        });
        MigrationStreamException e = assertThrows(MigrationStreamException.class, () -> walk(partWithoutStart,
                ANALYSIS));
        assertEquals("Unknown savevm section 4 (PART without a START) (at byte offset 8)", e.getMessage());

        byte[] wrongFooter = bytes((o, w) -> {
            StreamHeader.write(o);
            SectionHeader.writeStartOrFull(o, SectionType.FULL, 6, "dev", 3, 1);
            o.putBytes(new byte[3]);
            SectionFooter.write(o, 7);
            o.putByte(SectionType.EOF);
        });
        e = assertThrows(MigrationStreamException.class, () -> walk(wrongFooter, ANALYSIS));
        assertTrue(e.getMessage().startsWith("FULL section 'dev' instance 3 (section id 6, starting at byte 8): "
                + "Mismatched section id in footer for dev - read 0x7 expected 0x6"), e.getMessage());
        assertEquals(8 + 1 + 4 + 4 + 4 + 4 + 3 + 1, e.offset());

        byte[] junkAfterEof = bytes((o, w) -> {
            StreamHeader.write(o);
            o.putByte(SectionType.EOF);
            o.putByte(0x42);
        });
        e = assertThrows(MigrationStreamException.class, () -> walk(junkAfterEof, ANALYSIS));
        assertEquals(9, e.offset());
        // QEMU's loader only logs what follows EOF
        WalkOptions loader = new WalkOptions(WalkOptions.Footers.PRESENT, WalkOptions.Configuration.ABSENT, null, false,
                1 << 20, 0xffffffffL);
        assertEquals(List.of("EOF at 8"), walk(junkAfterEof, loader).events);
    }

    @Test
    void aPackageInsideAPackageIsBoundedByItsOwnLength() throws IOException {
        byte[] inner = bytes((o, w) -> {
            section(o, SectionType.FULL, 9, "x", new byte[1], true);
        });
        byte[] outer = bytes((o, w) -> w.packaged(inner));
        byte[] s = bytes((o, w) -> {
            StreamHeader.write(o);
            w.packaged(outer);
            o.putByte(SectionType.EOF);
        });
        Recorder r = walk(s, ANALYSIS);
        assertEquals(List.of("PACKAGED at 8 value " + outer.length, "PACKAGED at 0 value " + inner.length,
                "FULL x id 9 at 0 base " + (8 + 9 + 9), "end x len 21", "package end", "package end",
                "EOF at " + (8 + 9 + outer.length), "no trailer"), r.events);
    }
}
