package org.savevm.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.savevm.framing.SectionHeader;
import org.savevm.framing.SectionType;
import org.savevm.framing.walk.StreamVisitor;
import org.savevm.framing.walk.StreamWalker;
import org.savevm.framing.walk.WalkOptions;
import org.savevm.stream.MigrationInput;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Test helper: finds a FULL device section of a real QEMU stream by idstr and instance. The stream is walked by
 * the framing bundle's {@link StreamWalker} (header, configuration, section headers, footers, commands, EOF, vmdesc
 * trailer); the visitor knows no section's format, so it takes a body to end where the walker will find the
 * section's footer (corpus streams are written with send-section-footer on). The walker then checks that footer,
 * and a device section's body length must also agree with its entry in the stream's vmdesc trailer.
 */
public record CorpusSection(int sectionId, int version, int bodyOffset, int bodyLength, String vmdescEntry) {

    /** A test resource of the module under test, by its name at the root of its test resources. */
    public static byte[] resource(String name) throws IOException {
        try (InputStream in = CorpusSection.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return in.readAllBytes();
        }
    }

    public static CorpusSection find(byte[] stream, String idstr, int instance) throws IOException {
        Walk walk = Walk.of(stream);
        String text = walk.vmdescJson();
        JsonNode entry = null;
        for (JsonNode d : new ObjectMapper().readTree(text).get("devices")) {
            if (d.get("name").asText().equals(idstr) && d.get("instance_id").asInt() == instance) {
                entry = d;
            }
        }
        if (entry == null) {
            throw new IOException("no vmdesc entry for " + idstr + " " + instance);
        }
        for (Body b : walk.bodies()) {
            SectionHeader h = b.header();
            if (h.type() == SectionType.FULL && h.idstr().equals(idstr) && h.instanceId() == instance) {
                int described = bodyLength(entry);
                if (described != b.length()) {
                    throw new IOException("FULL section " + idstr + " " + instance + " at byte " + h.offset() + ": body of "
                            + b.length() + " bytes up to its footer, its vmdesc entry describes " + described);
                }
                return new CorpusSection(h.sectionId(), h.version(), b.offset(), b.length(),
                        entryText(text, idstr, instance));
            }
        }
        throw new IOException("no FULL section " + idstr + " " + instance);
    }

    /** Every (name, instance_id) of the stream's vmdesc, in stream order. */
    public static java.util.List<String[]> entries(byte[] stream) throws IOException {
        String text = Walk.of(stream).vmdescJson();
        java.util.List<String[]> out = new java.util.ArrayList<>();
        for (JsonNode d : new ObjectMapper().readTree(text).get("devices")) {
            out.add(new String[] {d.get("name").asText(), d.get("instance_id").asText()});
        }
        return out;
    }

    /** One section body of the walk: its header and where the body lies in the stream. */
    private record Body(SectionHeader header, int offset, int length) {
    }

    /** What one walk of a whole stream found: every section body, and where the vmdesc trailer's JSON is. */
    private static final class Walk implements StreamVisitor<SectionHeader> {
        private final byte[] stream;
        private final List<Body> bodies = new ArrayList<>();
        private StreamWalker<SectionHeader> walker;
        private long vmdescOffset = -1;
        private long vmdescLength;

        private Walk(byte[] stream) {
            this.stream = stream;
        }

        static Walk of(byte[] stream) throws IOException {
            Walk w = new Walk(stream);
            w.walker = new StreamWalker<>(new WalkOptions(WalkOptions.Footers.PRESENT,
                    WalkOptions.Configuration.OPTIONAL, null, true, stream.length, stream.length), w);
            w.walker.walk(MigrationInput.of(stream));
            return w;
        }

        List<Body> bodies() {
            return bodies;
        }

        /** The trailer's JSON, which must reach to the end of the stream. */
        String vmdescJson() throws IOException {
            if (vmdescOffset < 0) {
                throw new IOException("no vmdesc trailer");
            }
            long json = vmdescOffset + 5;
            if (json + vmdescLength != stream.length) {
                throw new IOException("vmdesc trailer at byte " + vmdescOffset + " of " + vmdescLength
                        + " bytes does not reach the end of the " + stream.length + "-byte stream");
            }
            return new String(stream, (int) json, (int) vmdescLength, StandardCharsets.UTF_8);
        }

        @Override
        public SectionHeader section(SectionHeader header, SectionHeader started) {
            return header;
        }

        /** Up to the first footer of this section id: the walker checks it right after. */
        @Override
        public void body(SectionHeader section, SectionHeader header, MigrationInput in) throws IOException {
            long start = walker.packageBase() + in.position();
            byte[] footer = ByteBuffer.allocate(5).put((byte) SectionType.FOOTER).putInt(header.sectionId()).array();
            int end = indexOf(stream, footer, (int) start);
            if (end < 0) {
                throw new IOException("no footer of section id " + Integer.toUnsignedString(header.sectionId())
                        + " after byte " + start);
            }
            in.skip(end - start);
            bodies.add(new Body(header, (int) start, (int) (end - start)));
        }

        @Override
        public void vmdescTrailer(long offset, long length) {
            vmdescOffset = offset;
            vmdescLength = length;
        }
    }

    public byte[] body(byte[] stream) {
        return Arrays.copyOfRange(stream, bodyOffset, bodyOffset + bodyLength);
    }

    /** The vmdesc members the engine writes (the entry without name, instance_id and braces). */
    public String vmdescMembers() {
        int start = vmdescEntry.indexOf("\"vmsd_name\"");
        return vmdescEntry.substring(start, vmdescEntry.length() - 1);
    }

    private static int bodyLength(JsonNode vmsd) {
        int n = 0;
        for (JsonNode f : vmsd.get("fields")) {
            n += f.get("size").asInt() * (f.has("array_len") ? f.get("array_len").asInt() : 1);
        }
        if (vmsd.has("subsections")) {
            for (JsonNode s : vmsd.get("subsections")) {
                n += 2 + s.get("vmsd_name").asText().length() + 4 + bodyLength(s);
            }
        }
        return n;
    }

    private static String entryText(String json, String idstr, int instance) {
        int start = json.indexOf("{\"name\": \"" + idstr + "\", \"instance_id\": " + instance + ",");
        int depth = 0;
        for (int i = start; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return json.substring(start, i + 1);
            }
        }
        throw new IllegalStateException("unterminated vmdesc entry");
    }

    private static int indexOf(byte[] a, byte[] p, int from) {
        for (int i = from; i <= a.length - p.length; i++) {
            if (Arrays.equals(a, i, i + p.length, p, 0, p.length)) {
                return i;
            }
        }
        return -1;
    }
}
