package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import org.savevm.api.LiveStateHandler;
import org.savevm.ram.codec.RamFlags;
import org.savevm.stream.MigrationInput;

/**
 * Test-only walker over a real QEMU stream whose only live section is "ram": header, configuration,
 * commands, then the ram START/PART/END sections (each body handed to a load session, each footer
 * checked), up to the first FULL device section, which only follow the ram END.
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
        assertEquals(0x5145564d, in.getBe32());
        assertEquals(3, in.getBe32());
        List<Body> bodies = new ArrayList<>();
        int ramId = -1;
        boolean ended = false;
        while (true) {
            long at = in.position();
            int type = in.getByte();
            switch (type) {
                case 0x07 -> {
                    in.skip(in.getBe32());
                    assertNotEquals(0x05, in.peekByte(), "configuration subsections are not expected here");
                }
                case 0x08 -> {
                    in.getBe16();
                    in.skip(in.getBe16());
                }
                case 0x01 -> {
                    int id = in.getBe32();
                    assertEquals("ram", in.getCountedString(), "first live section at " + at);
                    assertEquals(0, in.getBe32());
                    int version = in.getBe32();
                    ramId = id;
                    bodies.add(load(in, session, version, type));
                    footer(in, id);
                }
                case 0x02, 0x03 -> {
                    int id = in.getBe32();
                    assertEquals(ramId, id, "section id at " + at);
                    bodies.add(load(in, session, 4, type));
                    footer(in, id);
                    if (type == 0x03) {
                        ended = true;
                    }
                }
                case 0x04 -> {
                    assertTrue(ended, "device section before the ram END");
                    return bodies;
                }
                default -> fail("unexpected section type 0x" + Integer.toHexString(type) + " at " + at);
            }
        }
    }

    private static Body load(MigrationInput in, LiveStateHandler.LoadSession s, int version, int type)
            throws IOException {
        long start = in.position();
        s.load(in, version);
        return new Body(type, start, in.position());
    }

    private static void footer(MigrationInput in, int id) throws IOException {
        long at = in.position();
        assertEquals(0x7e, in.getByte(), "footer expected at " + at);
        assertEquals(id, in.getBe32(), "footer id at " + at);
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
