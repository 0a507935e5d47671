package org.savevm.analyze.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** issue 13: analyze-stream on hostile input (stream strings with control bytes, bad vmdesc, huge blocks). */
class HostileInputTest {
    @TempDir
    Path tmp;

    /** Output and error text hold no control byte except the line ends. */
    private static void assertInert(String text) {
        assertTrue(text.chars().noneMatch(c -> (c < 0x20 && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0)),
                text);
    }

    @Test
    void textOutputEscapesControlBytesOfIdstrs() throws Exception {
        byte[] s = Files.readAllBytes(AnalyzeStreamCommandTest.corpus("paused-16M.mig"));
        int body = AnalyzeStreamCommandTest.fullSectionBody(s, "timer", 0);
        int name = body - 8 - 5;
        assertEquals("timer", new String(s, name, 5, StandardCharsets.US_ASCII));
        byte[] evil = {'t', 0x1b, '[', '2', 'J'}; // "clear the screen" as an idstr
        System.arraycopy(evil, 0, s, name, evil.length);
        Path f = tmp.resolve("escape-idstr.mig");
        Files.write(f, s);
        AnalyzeStreamCommandTest.Run r = AnalyzeStreamCommandTest.run(f.toString());
        assertEquals(0, r.status(), r.err());
        assertInert(r.out());
        assertTrue(r.out().contains("'t\\x1b[2J' instance 0"), r.out());
        assertTrue(r.out().contains("t\\x1b[2J (0): "), r.out());
    }

    // ---------------------------------------------------------------- --dump-memory: sparse and bounded

    private static final int ZERO = 0x02;
    private static final int MEM_SIZE = 0x04;
    private static final int PAGE = 0x08;
    private static final int EOS = 0x10;
    private static final int CONTINUE = 0x20;

    /** A stream of one ram START section (no configuration, no footers), its body written by {@code body}. */
    interface Body {
        void write(DataOutputStream d) throws IOException;
    }

    static byte[] ramStream(Body body) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.writeInt(0x5145564d);
        d.writeInt(3);
        d.writeByte(0x01); // START
        d.writeInt(1);
        d.writeByte(3);
        d.writeBytes("ram");
        d.writeInt(0);
        d.writeInt(4);
        body.write(d);
        d.writeLong(EOS);
        d.writeByte(0x00); // EOF, no trailer
        d.flush();
        return b.toByteArray();
    }

    static void block(DataOutputStream d, String name, long length) throws IOException {
        d.writeLong(length | MEM_SIZE);
        d.writeByte(name.length());
        d.writeBytes(name);
        d.writeLong(length);
    }

    /** issue 13 (e): 230 KB claiming a 1 TiB block made a 1 TiB file and 100 MiB of written zeros. */
    @Test
    void blockLongerThanTheLimitOrWhatTheStreamCanHoldIsRefused() throws Exception {
        byte[] s = ramStream(d -> {
            block(d, "pc.ram", 1L << 40);
            for (int i = 0; i < 25_600; i++) {
                d.writeLong(((long) i << 12) | ZERO | (i == 0 ? 0 : CONTINUE));
                if (i == 0) {
                    d.writeByte(6);
                    d.writeBytes("pc.ram");
                }
                d.writeByte(0);
            }
        });
        assertTrue(s.length > 200_000 && s.length < 240_000, "length " + s.length);
        Path f = tmp.resolve("tib.mig");
        Files.write(f, s);
        Path dir = tmp.resolve("dump");
        AnalyzeStreamCommandTest.Run r = AnalyzeStreamCommandTest.run("--dump-memory", dir.toString(), f.toString());
        assertEquals(1, r.status(), r.out());
        assertTrue(r.err().contains("RAM block 'pc.ram' of 0x10000000000 bytes exceeds the dump limit of 0x1000000000 "
                + "bytes (--max-size)"), r.err());
        assertFalse(Files.exists(dir.resolve("pc.ram.bin")));
        // a higher limit still cannot make 230 KB of records describe 1 TiB
        AnalyzeStreamCommandTest.Run r2 = AnalyzeStreamCommandTest.run("--dump-memory", dir.toString(), "--max-size",
                "2T", f.toString());
        assertEquals(1, r2.status(), r2.out());
        assertTrue(r2.err().contains("is more than a stream of " + s.length + " bytes can hold"), r2.err());
        assertTrue(r2.err().contains("'ram' instance 0"), r2.err());
        assertFalse(Files.exists(dir.resolve("pc.ram.bin")));
        // and a lower one refuses what the stream could hold
        AnalyzeStreamCommandTest.Run r3 = AnalyzeStreamCommandTest.run("--dump-memory", dir.toString(), "--max-size",
                "1M", corpus("paused-16M.mig"));
        assertEquals(1, r3.status(), r3.out());
        assertTrue(r3.err().contains("exceeds the dump limit of 0x100000 bytes (--max-size)"), r3.err());
        // without --dump-memory the stream is only counted, nothing is written
        AnalyzeStreamCommandTest.Run counted = AnalyzeStreamCommandTest.run("--json", f.toString());
        assertEquals(0, counted.status(), counted.err());
        assertEquals(25_600, counted.json().path("ram").path("blocks").path("pc.ram").path("zero_pages").asLong(),
                counted.out());
    }

    private static String corpus(String name) throws Exception {
        return AnalyzeStreamCommandTest.corpus(name).toString();
    }

    @Test
    void dumpFilesAreSparseAndZeroPagesStillOverwrite() throws Exception {
        long length = 16L << 20;
        byte[] ones = new byte[4096];
        Arrays.fill(ones, (byte) 0x5a);
        byte[] s = ramStream(d -> {
            block(d, "pc.ram", length);
            for (long a = 0; a < length; a += 4096) {
                d.writeLong(a | ZERO | (a == 0 ? 0 : CONTINUE));
                if (a == 0) {
                    d.writeByte(6);
                    d.writeBytes("pc.ram");
                }
                d.writeByte(0);
            }
            // second round: page 0x3000 gets data, page 0x5000 data then zeros again, the last page filled 0x11
            d.writeLong(0x3000 | PAGE | CONTINUE);
            d.write(ones);
            d.writeLong(0x5000 | PAGE | CONTINUE);
            d.write(ones);
            d.writeLong(0x5000 | ZERO | CONTINUE);
            d.writeByte(0);
            d.writeLong((length - 4096) | ZERO | CONTINUE);
            d.writeByte(0x11);
        });
        Path f = tmp.resolve("sparse.mig");
        Files.write(f, s);
        Path dir = tmp.resolve("dump");
        AnalyzeStreamCommandTest.Run r = AnalyzeStreamCommandTest.run("--dump-memory", dir.toString(), f.toString());
        assertEquals(0, r.status(), r.err());
        Path bin = dir.resolve("pc.ram.bin");
        byte[] dumped = Files.readAllBytes(bin);
        byte[] expected = new byte[(int) length];
        Arrays.fill(expected, 0x3000, 0x4000, (byte) 0x5a);
        Arrays.fill(expected, (int) length - 4096, (int) length, (byte) 0x11);
        assertEquals(length, dumped.length);
        assertTrue(Arrays.equals(expected, dumped), "dump content");
        Long allocated = allocatedBytes(bin);
        if (allocated != null) {
            // 4096 zero pages were not written: only the two data pages (and file system rounding) take space
            assertTrue(allocated < 1L << 20, "allocated " + allocated + " bytes of a 16 MiB dump");
        }
    }

    /** st_blocks * 512 through stat(1), or null where there is no stat to ask. */
    private static Long allocatedBytes(Path p) throws Exception {
        try {
            Process proc = new ProcessBuilder("stat", "-c", "%b %B", p.toString()).redirectErrorStream(true).start();
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (proc.waitFor() != 0) {
                return null;
            }
            String[] parts = out.split(" ");
            return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
        } catch (IOException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- vmdesc of the wrong shape

    /** The stream with its vmdesc trailer replaced by {@code json} (length field adjusted). */
    static byte[] withVmdesc(byte[] s, JsonNode json) throws IOException {
        String text = new String(s, StandardCharsets.ISO_8859_1);
        int at = text.lastIndexOf("{\"page_size\"");
        byte[] j = new ObjectMapper().writeValueAsBytes(json);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(at + j.length);
        b.put(s, 0, at - 4).putInt(j.length).put(j);
        return b.array();
    }

    /** Index of the first device entry with a field matching {@code test}, and that field's index. */
    static int[] findField(JsonNode vmdesc, java.util.function.BiPredicate<JsonNode, JsonNode> test) {
        JsonNode devices = vmdesc.path("devices");
        for (int d = 0; d < devices.size(); d++) {
            JsonNode fields = devices.get(d).path("fields");
            for (int f = 1; f < fields.size(); f++) {
                if (test.test(fields.get(f - 1), fields.get(f))) {
                    return new int[] {d, f};
                }
            }
        }
        throw new AssertionError("no such field in the corpus vmdesc");
    }

    private AnalyzeStreamCommandTest.Run analyzeWith(byte[] s, JsonNode vmdesc, String name) throws Exception {
        Path f = tmp.resolve(name);
        Files.write(f, withVmdesc(s, vmdesc));
        return AnalyzeStreamCommandTest.run("--json", f.toString());
    }

    /**
     * issue 13 (b): a well-formed vmdesc whose second element of an indexed struct array lost its "struct"
     * made descriptor decoding throw NullPointerException; now it is refused naming the member's path.
     */
    @Test
    void vmdescStructElementWithoutStructIsRefusedNamingThePath() throws Exception {
        byte[] s = Files.readAllBytes(AnalyzeStreamCommandTest.corpus("serial-16M.mig"));
        JsonNode vmdesc = AnalyzeStreamCommandTest.vmdescTrailer(s);
        int[] at = findField(vmdesc, (prev, f) -> f.path("index").asInt(-1) == 1 && f.has("struct")
                && prev.path("name").equals(f.path("name")));
        JsonNode device = vmdesc.path("devices").get(at[0]);
        ((ObjectNode) device.path("fields").get(at[1])).remove("struct");
        AnalyzeStreamCommandTest.Run r = analyzeWith(s, vmdesc, "nostruct.mig");
        assertEquals(1, r.status(), r.out());
        String where = "vmdesc devices[" + at[0] + "] ('" + device.path("name").asText() + "' instance "
                + device.path("instance_id").asLong() + ") cannot describe the section: fields[" + at[1]
                + "].struct: expected a JSON object, found nothing";
        assertTrue(r.err().contains(where), r.err());
        assertTrue(r.err().contains("FULL section '" + device.path("name").asText() + "'"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    /**
     * A subsection whose vmsd_name does not extend its device's (here a terminal escape sequence) made the
     * descriptor builder throw IllegalArgumentException (found by VmdescJsonFuzzTest); now a refusal whose
     * text is inert.
     */
    @Test
    void vmdescSubsectionNotExtendingItsDeviceIsRefusedInertly() throws Exception {
        byte[] s = Files.readAllBytes(AnalyzeStreamCommandTest.corpus("serial-16M.mig"));
        JsonNode vmdesc = AnalyzeStreamCommandTest.vmdescTrailer(s);
        JsonNode device = null;
        for (JsonNode d : vmdesc.path("devices")) {
            if (d.path("subsections").size() > 0) {
                device = d;
                break;
            }
        }
        ((ObjectNode) device.path("subsections").get(0)).put("vmsd_name", "\u001b[2J");
        AnalyzeStreamCommandTest.Run r = analyzeWith(s, vmdesc, "badsub.mig");
        assertEquals(1, r.status(), r.out());
        assertInert(r.err());
        assertTrue(r.err().contains("vmdesc JSON does not make a VMState descriptor: subsection '\\x1b[2J' must "
                + "extend '" + device.path("vmsd_name").asText() + "'"), r.err());
    }

    /**
     * An element of an indexed struct array that lost its "index" splits the run into fields of one name and
     * different shapes: a ClassCastException before.
     */
    @Test
    void vmdescArrayElementWithoutIndexIsRefusedNamingThePath() throws Exception {
        byte[] s = Files.readAllBytes(AnalyzeStreamCommandTest.corpus("serial-16M.mig"));
        JsonNode vmdesc = AnalyzeStreamCommandTest.vmdescTrailer(s);
        int[] at = findField(vmdesc, (prev, f) -> f.path("index").asInt(-1) == 1 && f.has("struct")
                && prev.path("name").equals(f.path("name")));
        JsonNode device = vmdesc.path("devices").get(at[0]);
        ((ObjectNode) device.path("fields").get(at[1])).remove("index");
        AnalyzeStreamCommandTest.Run r = analyzeWith(s, vmdesc, "noindex.mig");
        assertEquals(1, r.status(), r.out());
        assertTrue(r.err().contains("fields[" + at[1] + "]: field name '" + device.path("fields").get(at[1])
                .path("name").asText() + "' is used by an earlier field too"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    /** Members of the wrong JSON type: each refused with its path, none as a runtime exception. */
    @Test
    void vmdescMembersOfTheWrongTypeAreRefusedNamingThePath() throws Exception {
        byte[] s = Files.readAllBytes(AnalyzeStreamCommandTest.corpus("serial-16M.mig"));
        JsonNode original = AnalyzeStreamCommandTest.vmdescTrailer(s);
        int serial = -1;
        for (int d = 0; d < original.path("devices").size(); d++) {
            if (original.path("devices").get(d).path("name").asText().equals("serial")) {
                serial = d;
                break;
            }
        }
        assertTrue(serial >= 0);
        ObjectMapper m = new ObjectMapper();
        String[][] cases = {
            {"fields", "\"x\"", "fields: expected an array of objects, found string"},
            {"fields/0", "7", "fields[0]: expected a JSON object, found number"},
            {"fields/0/struct", "[1]", "fields[0].struct: expected a JSON object, found array"},
            {"fields/0/struct/fields/1/size", "\"8\"", "fields[0].struct.fields[1]: JSON object lacks integer \"size\""},
            {"fields/0/struct/version", "1.5", "fields[0].struct: JSON object lacks integer \"version\""},
            {"subsections", "{}", "subsections: expected an array of objects, found object"},
        };
        for (String[] c : cases) {
            JsonNode vmdesc = original.deepCopy();
            JsonNode device = vmdesc.path("devices").get(serial);
            String path = c[0];
            int slash = path.lastIndexOf('/');
            JsonNode parent = slash < 0 ? device : device.at("/" + path.substring(0, slash));
            String member = path.substring(slash + 1);
            if (parent instanceof com.fasterxml.jackson.databind.node.ArrayNode a) {
                a.set(Integer.parseInt(member), m.readTree(c[1]));
            } else {
                ((ObjectNode) parent).set(member, m.readTree(c[1]));
            }
            AnalyzeStreamCommandTest.Run r = analyzeWith(s, vmdesc, "shape.mig");
            assertEquals(1, r.status(), c[0] + ": " + r.out());
            assertTrue(r.err().contains("vmdesc devices[" + serial + "] ('serial' instance 0) cannot describe the "
                    + "section: " + c[2]), c[0] + ": " + r.err());
            assertFalse(r.err().contains("Exception"), r.err());
        }
    }
}
