package org.savevm.analyze.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.RamBlock;
import org.savevm.block.internal.BlockSectionAnalyzer;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.internal.RamHandler;
import org.savevm.ram.internal.RamSectionAnalyzer;
import org.savevm.stream.MigrationInput;
import org.savevm.vmstate.internal.VMStateEngineComponent;
import org.savevm.vmstate.internal.json.VMStateJsonComponent;

/**
 * analyze-stream on real QEMU 7.2 streams (expected numbers from the corpus' stats.json, QEMU's own
 * query-migrate counters), on copies cut short or corrupted, and with bad arguments.
 */
class AnalyzeStreamCommandTest {
    @TempDir
    Path tmp;

    record Run(int status, String out, String err) {
        JsonNode json() throws IOException {
            return new ObjectMapper().readTree(out);
        }
    }

    static Run run(String... args) throws Exception {
        AnalyzeStreamCommand c = new AnalyzeStreamCommand(new VMStateJsonComponent(),
                new VMStateEngineComponent(Map.of()), List.of(new RamSectionAnalyzer(), new BlockSectionAnalyzer()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = c.run(List.of(args), o, e);
        }
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Path corpus(String name) throws URISyntaxException {
        return Path.of(AnalyzeStreamCommandTest.class.getResource("/corpus/" + name).toURI());
    }

    /** Sum of one per-block counter over all RAM blocks. */
    static long total(JsonNode r, String counter) {
        long n = 0;
        for (JsonNode b : r.path("ram").path("blocks")) {
            n += b.path(counter).asLong();
        }
        return n;
    }

    // ---------------------------------------------------------------- RAM: counts and --dump-memory

    @Test
    void xbzrleStreamCountsEqualQemusAndDumpEqualsTheRamLoader() throws Exception {
        Path dump = tmp.resolve("xbzrle-dump");
        Run r = run("--json", "--dump-memory", dump.toString(), corpus("dirty-xbzrle-16M.mig").toString());
        assertEquals(0, r.status(), r.err());
        JsonNode j = r.json();
        // dirty-xbzrle-16M.stats.json: ram.duplicate 3986, ram.normal 368, xbzrle-cache.bytes 2480917 (the
        // sum of 3 + length over the XBZRLE records); its xbzrle-cache.pages (6700) is not a record count:
        // the stream holds 6083 XBZRLE records (also counted by a separate script over the file)
        assertEquals(3986, total(j, "zero_pages"));
        assertEquals(368, total(j, "normal_pages"));
        assertEquals(2480917, total(j, "xbzrle_bytes"));
        assertEquals(6083, total(j, "xbzrle_pages"));
        assertEquals(0, total(j, "compressed_pages"));
        assertEquals("0x0000000001000000", j.path("ram").path("section sizes").path("pc.ram").asText());
        assertEquals(16L << 20, j.path("ram").path("blocks").path("pc.ram").path("used_length").asLong());
        // hundreds of iterations: one START, many PARTs, one END, every part's offset a ram section of the list
        JsonNode parts = j.path("ram").path("parts");
        assertTrue(parts.size() > 100, "ram sections: " + parts.size());
        assertEquals("START", parts.get(0).path("type").asText());
        assertEquals("END", parts.get(parts.size() - 1).path("type").asText());
        assertDumpEqualsRealLoader(corpus("dirty-xbzrle-16M.mig"), dump,
                MigrationSettings.DEFAULTS.withCapability("xbzrle", true));
    }

    @Test
    void compressedStreamCountsEqualQemusAndDumpEqualsTheRamLoader() throws Exception {
        Path dump = tmp.resolve("compress-dump");
        Run r = run("--json", "--dump-memory", dump.toString(), corpus("dirty-compress-16M.mig").toString());
        assertEquals(0, r.status(), r.err());
        JsonNode j = r.json();
        // dirty-compress-16M.stats.json: ram.normal 5 (the first page of each block visit goes uncompressed);
        // its compression.pages (43275) and ram.duplicate (4039) are not record counts: the stream holds
        // 36032 COMPRESS_PAGE and 3986 ZERO records (also counted by a separate script over the file)
        assertEquals(5, total(j, "normal_pages"));
        assertEquals(36032, total(j, "compressed_pages"));
        assertEquals(3986, total(j, "zero_pages"));
        assertEquals(0, total(j, "xbzrle_pages"));
        assertDumpEqualsRealLoader(corpus("dirty-compress-16M.mig"), dump,
                MigrationSettings.DEFAULTS.withCapability("compress", true));
    }

    /**
     * The reference: the same stream's ram sections loaded by the ram bundle's own loader into a
     * simulated pc-i440fx-7.2 machine, each block hashed by the machine; every dump file must hash
     * the same, and pc.ram must not be all zeros (else the comparison proves little).
     */
    private static void assertDumpEqualsRealLoader(Path stream, Path dumpDir, MigrationSettings settings)
            throws Exception {
        byte[] s = Files.readAllBytes(stream);
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 16L << 20)) {
            loadRamSections(s, new RamHandler(m), settings);
            int compared = 0;
            for (RamBlock b : m.ramBlocks()) {
                Path f = dumpDir.resolve(b.idstr().replace('/', '_') + ".bin");
                assertTrue(Files.exists(f), f.toString());
                assertEquals(b.usedLength(), Files.size(f), f.toString());
                assertArrayEquals(b.sha256(), sha256(f), "content of " + f.getFileName());
                compared++;
            }
            assertTrue(compared >= 2);
            byte[] zeros = MessageDigest.getInstance("SHA-256").digest(new byte[16 << 20]);
            assertFalse(Arrays.equals(zeros, sha256(dumpDir.resolve("pc.ram.bin"))), "pc.ram is all zeros");
        }
    }

    /** Header, configuration, commands, then the ram START/PART/END bodies until the first FULL section. */
    private static void loadRamSections(byte[] s, RamHandler ram, MigrationSettings settings) throws IOException {
        MigrationInput in = MigrationInput.of(s);
        in.skip(8);
        try (LiveStateHandler.LoadSession load = ram.beginLoad(new MigrationContext(settings))) {
            while (true) {
                int type = in.getByte();
                if (type == 0x07) {
                    in.skip(in.getBe32());
                } else if (type == 0x08) {
                    in.getBe16();
                    in.skip(in.getBe16());
                } else if (type == 0x01) {
                    in.getBe32();
                    assertEquals("ram", in.getCountedString());
                    in.getBe32();
                    load.load(in, in.getBe32());
                    in.skip(5);
                } else if (type == 0x02 || type == 0x03) {
                    in.getBe32();
                    load.load(in, 4);
                    in.skip(5);
                } else {
                    assertEquals(0x04, type);
                    break;
                }
            }
            load.complete();
        }
    }

    private static byte[] sha256(Path f) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(Files.readAllBytes(f));
        return md.digest();
    }

    @Test
    void pausedStreamTextShowsHeaderConfigurationSectionsAndRamCounts() throws Exception {
        Run r = run(corpus("paused-16M.mig").toString());
        assertEquals(0, r.status(), r.err());
        String t = r.out();
        assertTrue(t.contains("header: magic 0x5145564d (QEVM), version 3"), t);
        assertTrue(t.contains("configuration: at byte 8, 18 bytes, machine type 'pc-i440fx-7.2'"), t);
        assertTrue(t.lines().anyMatch(l -> l.startsWith("  START    section ") && l.contains("'ram' instance 0 version 4")), t);
        assertTrue(t.lines().anyMatch(l -> l.startsWith("  FULL ") && l.contains("'timer' instance 0 version 2")), t);
        assertTrue(t.contains("  block pc.ram: used length 0x1000000; pages: zero "), t);
        assertTrue(t.contains("vmdesc: at byte "), t);
        assertTrue(t.lines().anyMatch(l -> l.startsWith("  EOF      at byte ")), t);
    }

    @Test
    void pausedStreamJsonCountsEqualQemusAndSectionsTileTheFile() throws Exception {
        Path f = corpus("paused-16M.mig");
        Run r = run("--json", f.toString());
        assertEquals(0, r.status(), r.err());
        JsonNode j = r.json();
        // paused-16M.stats.json: ram.duplicate 4177, ram.normal 49
        assertEquals(4177, total(j, "zero_pages"));
        assertEquals(49, total(j, "normal_pages"));
        assertEquals("pc-i440fx-7.2", j.path("configuration").path("machine_type").asText());
        assertTrue(j.path("section_footers").asBoolean());
        // configuration, every section and command, EOF and the trailer cover the file byte for byte
        long at = 8 + j.path("configuration").path("length").asLong();
        for (JsonNode s : j.path("sections")) {
            assertEquals(at, s.path("offset").asLong(), s.toString());
            at += s.path("type").asText().equals("EOF") ? 1 : s.path("length").asLong();
        }
        JsonNode v = j.path("vmdesc");
        assertTrue(v.path("present").asBoolean());
        assertEquals(at, v.path("offset").asLong());
        assertEquals(Files.size(f), at + 5 + v.path("length").asLong());
        // every device of the vmdesc was decoded
        assertEquals(v.path("devices").asInt(), j.path("devices").size());
        j.path("devices").forEach(d -> assertFalse(d.has("not_decoded"), d.toString()));
    }

    // ---------------------------------------------------------------- devices through the vmdesc

    @Test
    void serialDevicesAreDecodedWithTheValuesTheStreamHolds() throws Exception {
        Path f = corpus("serial-16M.mig");
        byte[] s = Files.readAllBytes(f);
        Run r = run("--json", f.toString());
        assertEquals(0, r.status(), r.err());
        JsonNode devices = r.json().path("devices");
        for (int instance = 0; instance < 2; instance++) {
            JsonNode state = devices.path("serial (" + instance + ")").path("state");
            assertTrue(state.isObject(), devices.toString());
            // independently: the FULL section's body bytes (divider be16, rbr, ier, iir, lcr, mcr, lsr, msr, ...)
            int body = fullSectionBody(s, "serial", instance);
            int divider = ByteBuffer.wrap(s, body, 2).getShort() & 0xffff;
            assertEquals(String.format("0x%04x", divider), state.path("divider").asText());
            assertEquals(String.format("0x%02x", s[body + 4] & 0xff), state.path("iir").asText());
            assertEquals(String.format("0x%02x", s[body + 7] & 0xff), state.path("lsr").asText());
            // QEMU's reset state of a 16550A: divider 12 (9600 baud), IIR "no interrupt", LSR THRE|TEMT
            assertEquals("0x000c", state.path("divider").asText());
            assertEquals("0x01", state.path("iir").asText());
            assertEquals("0x60", state.path("lsr").asText());
        }
        // the vmdesc itself lists both instances
        JsonNode vmdesc = vmdescTrailer(s);
        int serials = 0;
        for (JsonNode d : vmdesc.path("devices")) {
            serials += d.path("name").asText().equals("serial") ? 1 : 0;
        }
        assertEquals(2, serials);
        // globalstate carries the run state as a NUL-padded buffer: this -S guest was saved "paused"
        String runstate = devices.path("globalstate (0)").path("runstate").asText();
        assertTrue(hexToText(runstate).startsWith("paused\0"), runstate);
    }

    /** The vmdesc JSON, found independently of the analyzer: the last '{"page_size"' up to the end. */
    static JsonNode vmdescTrailer(byte[] s) throws IOException {
        String text = new String(s, StandardCharsets.ISO_8859_1);
        int at = text.lastIndexOf("{\"page_size\"");
        assertTrue(at > 5 && s[at - 5] == 0x06 && ByteBuffer.wrap(s, at - 4, 4).getInt() == s.length - at, "no trailer");
        return new ObjectMapper().readTree(new String(s, at, s.length - at, StandardCharsets.UTF_8));
    }

    /** Offset of the body of FULL section idstr/instance in a stream: found by its header bytes. */
    static int fullSectionBody(byte[] s, String idstr, int instance) {
        byte[] name = idstr.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i + 14 + name.length < s.length; i++) {
            if (s[i] == 0x04 && (s[i + 5] & 0xff) == name.length
                    && Arrays.equals(s, i + 6, i + 6 + name.length, name, 0, name.length)
                    && ByteBuffer.wrap(s, i + 6 + name.length, 4).getInt() == instance) {
                return i + 6 + name.length + 8;
            }
        }
        throw new AssertionError("no FULL section " + idstr + " " + instance);
    }

    private static String hexToText(String hex) {
        StringBuilder sb = new StringBuilder();
        for (String b : hex.split(" ")) {
            sb.append((char) Integer.parseInt(b, 16));
        }
        return sb.toString();
    }

    @Test
    void streamWithoutFootersOrConfigurationStillAnalyzes() throws Exception {
        Run nofooter = run("--json", corpus("nofooter-16M.mig").toString());
        assertEquals(0, nofooter.status(), nofooter.err());
        assertFalse(nofooter.json().path("section_footers").asBoolean(true));
        assertTrue(nofooter.json().path("devices").path("timer (0)").has("cpu_ticks_offset"));
        Run noconfig = run("--json", corpus("noconfig-16M.mig").toString());
        assertEquals(0, noconfig.status(), noconfig.err());
        assertTrue(noconfig.json().path("configuration").isNull());
        assertTrue(noconfig.json().path("devices").path("timer (0)").has("cpu_ticks_offset"));
    }

    @Test
    void withoutVmdescDevicesAreShownByRawLength() throws Exception {
        // the same stream with its trailer removed (as with suppress-vmdesc): cut right after EOF
        Path f = corpus("paused-16M.mig");
        byte[] s = Files.readAllBytes(f);
        JsonNode full = run("--json", f.toString()).json();
        long eof = full.path("vmdesc").path("offset").asLong();
        Path cut = tmp.resolve("novmdesc.mig");
        Files.write(cut, Arrays.copyOf(s, (int) eof));
        Run r = run("--json", cut.toString());
        assertEquals(0, r.status(), r.err());
        JsonNode j = r.json();
        assertFalse(j.path("vmdesc").path("present").asBoolean());
        // every device section is still found, with the body length the decoded walk measured
        Map<String, Long> decodedLengths = new HashMap<>();
        for (JsonNode sec : full.path("sections")) {
            if (sec.path("type").asText().equals("FULL")) {
                decodedLengths.put(sec.path("idstr").asText() + " (" + sec.path("instance_id").asLong() + ")",
                        sec.path("length").asLong());
            }
        }
        assertEquals(decodedLengths.size(), j.path("devices").size());
        for (Iterator<Map.Entry<String, JsonNode>> it = j.path("devices").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            int nameLen = e.getKey().substring(0, e.getKey().lastIndexOf(" (")).getBytes(StandardCharsets.UTF_8).length;
            long header = 1 + 4 + 1 + nameLen + 4 + 4;
            assertEquals(decodedLengths.get(e.getKey()) - header - 5, e.getValue().path("raw_length").asLong(), e.getKey());
        }
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void truncatedStreamFailsNamingTheSectionAndOffset() throws Exception {
        byte[] s = Files.readAllBytes(corpus("paused-16M.mig"));
        int ram = ramStartOffset(s);
        // cut inside the ram START section, 1000 bytes into its body
        Path cut = tmp.resolve("cut.mig");
        Files.write(cut, Arrays.copyOf(s, ram + 1000));
        Run r = run(cut.toString());
        assertEquals(1, r.status());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("'ram' instance 0"), r.err());
        assertTrue(r.err().contains("PART section 'ram' instance 0"), r.err()); // the START has only MEM_SIZE
        assertTrue(r.err().contains("unexpected end of stream"), r.err());
        assertTrue(r.err().contains("at byte offset " + (ram + 1000)), r.err());

        // cut inside a device section (the vmdesc is gone with the tail)
        int serial = fullSectionBody(Files.readAllBytes(corpus("serial-16M.mig")), "serial", 1);
        Path cut2 = tmp.resolve("cut2.mig");
        Files.write(cut2, Arrays.copyOf(Files.readAllBytes(corpus("serial-16M.mig")), serial + 3));
        Run r2 = run("--json", cut2.toString());
        assertEquals(1, r2.status());
        assertEquals("", r2.out());
        assertTrue(r2.err().contains("'serial' instance 1"), r2.err());
        assertTrue(r2.err().contains("at byte offset " + (serial + 3)), r2.err());
    }

    @Test
    void corruptedRamFlagsFailNamingTheRecordOffset() throws Exception {
        byte[] s = Files.readAllBytes(corpus("paused-16M.mig"));
        int ram = ramStartOffset(s);
        int firstRecord = ram + 1 + 4 + 1 + 3 + 4 + 4;
        assertEquals(0x04, s[firstRecord + 7] & 0xff, "MEM_SIZE record expected first");
        byte[] bad = s.clone();
        bad[firstRecord + 7] = 0x05; // MEM_SIZE | the obsolete FULL flag
        Path f = tmp.resolve("badflags.mig");
        Files.write(f, bad);
        Run r = run(f.toString());
        assertEquals(1, r.status());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("'ram' instance 0"), r.err());
        assertTrue(r.err().contains("unknown combination of RAM flags 0x5"), r.err());
        assertTrue(r.err().contains("at byte offset " + firstRecord), r.err());
    }

    @Test
    void corruptedDeviceFooterFailsNamingTheDevice() throws Exception {
        byte[] s = Files.readAllBytes(corpus("serial-16M.mig"));
        int body = fullSectionBody(s, "serial", 0);
        int footer = body + 11; // serial's body is 11 bytes (vmdesc: struct of 11)
        assertEquals(0x7e, s[footer] & 0xff);
        byte[] bad = s.clone();
        bad[footer + 4] ^= 0x40;
        Path f = tmp.resolve("badfooter.mig");
        Files.write(f, bad);
        Run r = run("--json", f.toString());
        assertEquals(1, r.status());
        assertEquals("", r.out());
        assertTrue(r.err().contains("'serial' instance 0"), r.err());
        assertTrue(r.err().contains("Mismatched section id in footer for serial"), r.err());
        assertTrue(r.err().contains("at byte offset " + (footer + 1)), r.err());
    }

    @Test
    void notAStreamAndGarbageAfterEofAreErrors() throws Exception {
        Path junk = tmp.resolve("junk.bin");
        Files.write(junk, "hello, world".getBytes(StandardCharsets.US_ASCII));
        Run r = run(junk.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("not a QEMU migration stream") && r.err().contains("at byte offset 0"), r.err());

        byte[] s = Files.readAllBytes(corpus("paused-16M.mig"));
        byte[] longer = Arrays.copyOf(s, s.length + 3); // trailer no longer reaches the end
        Path f = tmp.resolve("tail.mig");
        Files.write(f, longer);
        Run r2 = run(f.toString());
        assertEquals(1, r2.status());
        assertTrue(r2.err().contains("vmdesc trailer claims"), r2.err());
    }

    static int ramStartOffset(byte[] s) {
        byte[] name = {3, 'r', 'a', 'm'};
        int at = indexOf(s, name) - 5;
        assertEquals(0x01, s[at], "START byte of the ram section");
        return at;
    }

    static int indexOf(byte[] hay, byte[] needle) {
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    // ---------------------------------------------------------------- arguments

    @Test
    void badArgumentsPrintUsageAndExit2() throws Exception {
        List<String[]> bad = new ArrayList<>();
        bad.add(new String[0]);
        bad.add(new String[] {"--bogus", "x.mig"});
        bad.add(new String[] {"a.mig", "b.mig"});
        bad.add(new String[] {"x.mig", "--dump-memory"});
        bad.add(new String[] {"x.mig", "--dump-memory", "d", "--max-size"});
        bad.add(new String[] {"x.mig", "--dump-memory", "d", "--max-size", "lots"});
        bad.add(new String[] {"x.mig", "--dump-memory", "d", "--max-size", "0"});
        bad.add(new String[] {"x.mig", "--max-size", "1G"});
        for (String[] args : bad) {
            Run r = run(args);
            assertEquals(2, r.status(), String.join(" ", args));
            assertTrue(r.err().contains("analyze-stream [--json] [--dump-memory DIR] [--dump-disks DIR] [--max-size SIZE] FILE"), r.err());
        }
        Run missing = run(tmp.resolve("nope.mig").toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("not a readable file"), missing.err());
        assertNotEquals("", new AnalyzeStreamCommand(null, null, List.of()).summary());
    }
}
