package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import org.savevm.api.LiveStateHandler;
import org.savevm.framing.SectionHeader;
import org.savevm.framing.SectionType;
import org.savevm.framing.walk.ConfigurationRecord;
import org.savevm.framing.walk.StreamVisitor;
import org.savevm.framing.walk.StreamWalker;
import org.savevm.framing.walk.WalkOptions;
import org.savevm.ram.codec.RamFlags;
import org.savevm.stream.MigrationInput;

/**
 * Test-only visitor of the framing bundle's {@link StreamWalker} over a real QEMU stream whose only live section is
 * "ram": the walker reads the header, configuration, commands and section headers and checks each footer; the ram
 * START/PART/END bodies are handed to a load session, up to the first FULL device section, which only follows the
 * ram END.
 */
public final class CorpusWalker {
    /** One ram section body: [start, end) in the stream. */
    public record Body(int type, long start, long end) {
    }

    private CorpusWalker() {
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = CorpusWalker.class.getResourceAsStream("/corpus/" + name)) {
            assertNotNull(in, "missing test resource " + name);
            return in.readAllBytes();
        }
    }

    static List<Body> loadRam(byte[] stream, LiveStateHandler.LoadSession session) throws IOException {
        return loadRam(MigrationInput.of(stream), session);
    }

    /** As above over any input, e.g. a live migration's main stream; stops at the first device section. */
    public static List<Body> loadRam(MigrationInput in, LiveStateHandler.LoadSession session) throws IOException {
        RamSections ram = new RamSections(session);
        StreamWalker<SectionHeader> walker = new StreamWalker<>(new WalkOptions(WalkOptions.Footers.PRESENT,
                WalkOptions.Configuration.OPTIONAL, null, false, Long.MAX_VALUE, Long.MAX_VALUE), ram);
        try {
            walker.walk(in);
        } catch (FirstDeviceSection reached) {
            return ram.bodies;
        }
        return fail("the stream ended without a device section after the ram END");
    }

    /** Thrown at the first FULL section's header to stop the walk there. */
    private static final class FirstDeviceSection extends RuntimeException {
        private static final long serialVersionUID = 1L;

        FirstDeviceSection() {
            super(null, null, false, false);
        }
    }

    private static final class RamSections implements StreamVisitor<SectionHeader> {
        private final LiveStateHandler.LoadSession session;
        private final List<Body> bodies = new ArrayList<>();
        private int ramId = -1;
        private boolean ended;

        RamSections(LiveStateHandler.LoadSession session) {
            this.session = session;
        }

        @Override
        public void configuration(ConfigurationRecord configuration) {
            assertEquals(List.of(), configuration.subsections(), "configuration subsections are not expected here");
        }

        @Override
        public SectionHeader section(SectionHeader header, SectionHeader started) {
            long at = header.offset();
            switch (header.type()) {
                case SectionType.START -> {
                    assertEquals("ram", header.idstr(), "first live section at " + at);
                    assertEquals(0, header.instanceId());
                    ramId = header.sectionId();
                }
                case SectionType.PART, SectionType.END -> {
                    assertEquals(ramId, header.sectionId(), "section id at " + at);
                }
                case SectionType.FULL -> {
                    assertTrue(ended, "device section before the ram END");
                    throw new FirstDeviceSection();
                }
                default -> fail("unexpected section type 0x" + Integer.toHexString(header.type()) + " at " + at);
            }
            return header;
        }

        @Override
        public void body(SectionHeader section, SectionHeader header, MigrationInput in) throws IOException {
            long start = in.position();
            session.load(in, header.version());
            bodies.add(new Body(header.type(), start, in.position()));
            if (header.type() == SectionType.END) {
                ended = true;
            }
        }

        @Override
        public void eof(long offset) {
            fail("EOF at " + offset + " before any device section");
        }
    }

    /** The bodies' bytes joined, each without its trailing EOS record. */
    static byte[] recordsWithoutEos(byte[] stream, List<Body> bodies) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Body b : bodies) {
            int end = (int) b.end() - 8;
            assertEquals(RamFlags.EOS, java.nio.ByteBuffer.wrap(stream, end, 8).getLong(), "EOS at " + end);
            out.write(stream, (int) b.start(), end - (int) b.start());
        }
        return out.toByteArray();
    }
}
