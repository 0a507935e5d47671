package org.savevm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.MigrationSettings;
import org.savevm.core.testing.BlobDevice;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/** Malformed input: every error is a MigrationStreamException with a clear message and offset, and no hang. */
class BadInputTest {
    static byte[] validStream() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            RoundTripTest.save(new RoundTripTest.Machine(true).service(), out, MigrationSettings.DEFAULTS);
        }
        return bytes.toByteArray();
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer: for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    /** Offset of the FULL header of the section with this section id and idstr. */
    static int fullHeader(byte[] s, int sectionId, String idstr) {
        ByteBuffer b = ByteBuffer.allocate(6 + idstr.length());
        b.put((byte) 4).putInt(sectionId).put((byte) idstr.length()).put(idstr.getBytes(StandardCharsets.US_ASCII));
        return indexOf(s, b.array());
    }

    static MigrationStreamException loadFails(byte[] s, RoundTripTest.Machine dst) {
        return assertThrows(MigrationStreamException.class,
                () -> dst.service().load(MigrationInput.of(s), MigrationSettings.DEFAULTS));
    }

    static MigrationStreamException loadFails(byte[] s) {
        return loadFails(s, new RoundTripTest.Machine(false));
    }

    static byte[] headerAndConfig() {
        ByteBuffer b = ByteBuffer.allocate(26);
        b.putInt(0x5145564d).putInt(3).put((byte) 7).putInt(13).put("pc-i440fx-7.2".getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    @Test
    void wrongMagic() throws IOException {
        byte[] s = validStream();
        s[0] = 'X';
        MigrationStreamException e = loadFails(s);
        assertTrue(e.getMessage().startsWith("Not a migration stream"), e.getMessage());
        assertEquals(0, e.offset());
    }

    @Test
    void version2StreamIsObsolete() throws IOException {
        byte[] s = validStream();
        s[7] = 2;
        MigrationStreamException e = loadFails(s);
        assertTrue(e.getMessage().startsWith("SaveVM v2 format is obsolete"), e.getMessage());
        assertEquals(4, e.offset());
    }

    @Test
    void everyTruncationFailsCleanly() throws IOException {
        byte[] s = validStream();
        int eof = indexOf(s, new byte[] { 0x7e, 0, 0, 0, 7, 0, 6 }) + 5;
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int cut = 0; cut < s.length; cut++) {
                RoundTripTest.Machine dst = new RoundTripTest.Machine(false);
                byte[] prefix = Arrays.copyOf(s, cut);
                try {
                    dst.service().load(MigrationInput.of(prefix), MigrationSettings.DEFAULTS);
                    fail("stream cut at " + cut + " of " + s.length + " loaded");
                } catch (MigrationStreamException e) {
                    assertTrue(e.offset() >= 0 && e.offset() <= cut, cut + ": " + e.getMessage());
                    assertTrue(e.getMessage().contains("byte offset"), e.getMessage());
                    if (cut > eof) {
                        // everything up to EOF arrived, the trailer did not: a cut stream all the same (issue 13)
                        assertTrue(e.getMessage().contains("no complete vmdesc trailer"), cut + ": " + e.getMessage());
                    }
                }
                if (cut < eof) { // dev-b is the last section: complete only from cut == eof on
                    assertTrue(dst.b.commits == 0, "dev-b committed although the stream was cut at " + cut);
                }
            }
        });
    }

    @Test
    void corpusStreamCutAtSampledPositions() throws IOException {
        byte[] s = CorpusStreams.bytes("paused-16M.mig");
        int trailer = s.length - 5;
        while (!(s[trailer] == 6 && ByteBuffer.wrap(s, trailer + 1, 4).getInt() == s.length - trailer - 5)) {
            trailer--;
        }
        int eof = trailer - 1;
        assertEquals(0, s[eof], "QEMU_VM_EOF before the trailer");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            // every cut before the EOF marker fails; after it only the vmdesc trailer is missing
            for (int cut = 0; cut <= eof; cut += cut + 4999 > eof && cut < eof ? eof - cut : 4999) {
                SkippingRamHandler ram = new SkippingRamHandler();
                FakeRegistry reg = CorpusStreams.registryFor(s, ram);
                byte[] prefix = Arrays.copyOf(s, cut);
                MigrationStreamException e = assertThrows(MigrationStreamException.class,
                        () -> new SaveVmService(reg, new BlobEngine(), Map.of()).load(MigrationInput.of(prefix),
                                MigrationSettings.DEFAULTS));
                assertTrue(e.offset() <= cut, e.getMessage());
            }
        });
    }

    @Test
    void unknownSectionIdstr() throws IOException {
        byte[] s = validStream();
        int at = fullHeader(s, 7, "0000:00:01.0/dev-b");
        RoundTripTest.Machine dst = new RoundTripTest.Machine(false);
        FakeRegistry reg = new FakeRegistry();
        reg.add(dst.live, 2).add(dst.a, 5);
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> new SaveVmService(reg, new BlobEngine(), Map.of()).load(MigrationInput.of(s),
                        MigrationSettings.DEFAULTS));
        assertEquals("Unknown savevm section or instance '0000:00:01.0/dev-b' 1 (at byte offset " + at + ")",
                e.getMessage());
    }

    /**
     * With a {@link org.savevm.api.ForeignSections} in the load's context (loadvm of a snapshot QEMU took), a FULL
     * section no handler loads is read past by it and named in the LoadReport, and the load completes; one it
     * cannot describe still fails with QEMU's words at the section's offset.
     */
    @Test
    void unknownSectionIsReadPastByForeignSectionsAndReported() throws IOException {
        byte[] s = validStream();
        int at = fullHeader(s, 7, "0000:00:01.0/dev-b");
        RoundTripTest.Machine dst = new RoundTripTest.Machine(false);
        FakeRegistry reg = new FakeRegistry();
        reg.add(dst.live, 2).add(dst.a, 5);
        org.savevm.api.MigrationContext context = new org.savevm.api.MigrationContext(MigrationSettings.DEFAULTS);
        int[] asked = {0};
        context.publish(org.savevm.api.ForeignSections.class, (idstr, instance, version, in) -> {
            asked[0]++;
            assertEquals("0000:00:01.0/dev-b", idstr);
            assertEquals(1, instance);
            in.readFully(new byte[300]); // dev-b's blob, as its vmdesc entry describes it
            return true;
        });
        new SaveVmService(reg, new BlobEngine(), Map.of()).load(MigrationInput.of(s), context,
                org.savevm.api.IncomingCommands.NONE);
        assertEquals(1, asked[0]);
        org.savevm.api.LoadReport report = context.find(org.savevm.api.LoadReport.class).orElseThrow();
        assertEquals(java.util.List.of("'0000:00:01.0/dev-b' instance 1"), report.skipped());
        assertTrue(report.vmdescChecked(), "the skipped section counts as arrived for the trailer's check");
        assertTrue(report.warning().orElseThrow().contains("not loaded, no handler here for 1 section of the stream"));
        assertEquals(1, dst.a.commits);

        org.savevm.api.MigrationContext refusing = new org.savevm.api.MigrationContext(MigrationSettings.DEFAULTS);
        refusing.publish(org.savevm.api.ForeignSections.class, (idstr, instance, version, in) -> false);
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> new SaveVmService(reg, new BlobEngine(), Map.of()).load(MigrationInput.of(s), refusing,
                        org.savevm.api.IncomingCommands.NONE));
        assertTrue(e.getMessage().contains("Unknown savevm section or instance '0000:00:01.0/dev-b' 1 (no handler"),
                e.getMessage());
        assertEquals(at, e.offset());
    }

    @Test
    void unknownInstanceOfKnownIdstr() throws IOException {
        byte[] s = validStream();
        int at = fullHeader(s, 7, "0000:00:01.0/dev-b");
        s[at + 1 + 4 + 1 + 18 + 3] = 9; // instance 1 -> 9
        MigrationStreamException e = loadFails(s);
        assertEquals("Unknown savevm section or instance '0000:00:01.0/dev-b' 9 (at byte offset " + at + ")",
                e.getMessage());
    }

    @Test
    void versionTooNew() throws IOException {
        byte[] s = validStream();
        int at = fullHeader(s, 5, "dev-a");
        s[at + 1 + 4 + 1 + 5 + 4 + 3] = 3; // version 2 -> 3, registered 2
        MigrationStreamException e = loadFails(s);
        assertTrue(e.getMessage().startsWith("savevm: unsupported version 3 for 'dev-a' v2"), e.getMessage());
        assertTrue(e.getMessage().contains("instance 0"), e.getMessage());
        assertEquals(at, e.offset());
    }

    @Test
    void footerMismatchAndNothingAppliedToThatDevice() throws IOException {
        byte[] s = validStream();
        int at = fullHeader(s, 7, "0000:00:01.0/dev-b");
        int footer = at + 1 + 4 + 1 + 18 + 8 + 300;
        assertEquals(0x7e, s[footer]);
        s[footer + 4] = 8;
        RoundTripTest.Machine dst = new RoundTripTest.Machine(false);
        byte[] before = dst.b.data().clone();
        MigrationStreamException e = loadFails(s, dst);
        assertTrue(e.getMessage().startsWith("FULL section '0000:00:01.0/dev-b' instance 1 (section id 7, starting at byte "
                + at + "): Mismatched section id in footer for 0000:00:01.0/dev-b - read 0x8 expected 0x7"),
                e.getMessage());
        assertEquals(footer + 1, e.offset());
        assertEquals(0, dst.b.commits);
        assertArrayEquals(before, dst.b.data());
        assertEquals(1, dst.a.commits); // the section before it was complete and applied
    }

    @Test
    void truncatedDeviceBodyAppliesNothing() throws IOException {
        byte[] s = validStream();
        int at = fullHeader(s, 7, "0000:00:01.0/dev-b");
        RoundTripTest.Machine dst = new RoundTripTest.Machine(false);
        MigrationStreamException e = loadFails(Arrays.copyOf(s, at + 32 + 100), dst);
        assertTrue(e.getMessage().contains("section '0000:00:01.0/dev-b' instance 1"), e.getMessage());
        assertEquals(at + 32 + 100, e.offset());
        assertEquals(0, dst.b.commits);
        assertArrayEquals(new byte[300], dst.b.data());
    }

    @Test
    void unknownSectionType() throws IOException {
        byte[] s = validStream();
        int eof = indexOf(s, new byte[] { 0x7e, 0, 0, 0, 7, 0, 6 }) + 5;
        s[eof] = 9;
        MigrationStreamException e = loadFails(s);
        assertEquals("Unknown savevm section type 9 (at byte offset " + eof + ")", e.getMessage());
        s[eof] = 5;
        assertTrue(loadFails(s).getMessage().startsWith("Unknown savevm section type 5"));
    }

    @Test
    void commandWithBadLength() {
        byte[] s = concat(headerAndConfig(), new byte[] { 8, 0, 2, 0, 3, 0, 0, 1, 0 });
        MigrationStreamException e = loadFails(s);
        assertEquals("PING received bad length: cmd 2 len 3, expected 4 (at byte offset 26)", e.getMessage());
        byte[] unknown = concat(headerAndConfig(), new byte[] { 8, 0, 11, 0, 0, 0 });
        assertEquals("MIG_CMD 0xb unknown (len 0x0) (at byte offset 26)", loadFails(unknown).getMessage());
        byte[] invalid = concat(headerAndConfig(), new byte[] { 8, 0, 0, 0, 0, 0 });
        assertTrue(loadFails(invalid).getMessage().startsWith("MIG_CMD 0x0 unknown"));
    }

    @Test
    void countedStringPastTheEnd() {
        byte[] s = concat(headerAndConfig(), new byte[] { 4, 0, 0, 0, 5, 32, 'd', 'e', 'v' });
        MigrationStreamException e = loadFails(s);
        assertTrue(e.getMessage().startsWith("FULL section header cut short: Unable to read ID string for section 5: "
                + "counted string of 32 bytes runs past the end of the stream"), e.getMessage());
        assertEquals(32, e.offset());
    }

    @Test
    void partWithoutStart() {
        byte[] s = concat(headerAndConfig(), new byte[] { 2, 0, 0, 0, 2, 0 });
        assertEquals("Unknown savevm section 2 (PART without a START) (at byte offset 26)", loadFails(s).getMessage());
    }

    @Test
    void hugeMachineNameIsRefusedWithoutAllocating() {
        byte[] s = concat(Arrays.copyOf(headerAndConfig(), 9), new byte[] { 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff });
        MigrationStreamException e = loadFails(s);
        assertTrue(e.getMessage().contains("machine type name of 2147483647 bytes"), e.getMessage());
    }

    @Test
    void hugeOrForeignVmdescTrailerIsNotReadAndTheLoadFails() throws IOException {
        byte[] s = validStream();
        int eof = indexOf(s, new byte[] { 0x7e, 0, 0, 0, 7, 0, 6 }) + 5;
        byte[] huge = Arrays.copyOf(s, eof + 6);
        huge[eof + 2] = (byte) 0xff; // length 0xff......: beyond the limit, never allocated nor waited for
        RoundTripTest.Machine dst = new RoundTripTest.Machine(false);
        MigrationStreamException e = loadFails(huge, dst);
        assertTrue(e.getMessage().startsWith("the stream has no complete vmdesc trailer after its EOF marker (its "
                + "vmdesc trailer of 4278190392 bytes is beyond the limit of 67108864 bytes or cut short)"), e.getMessage());
        assertEquals(eof + 1, e.offset());
        byte[] foreign = Arrays.copyOf(s, eof + 2);
        foreign[eof + 1] = 0x05; // "Expected vmdescription section, but got 5": QEMU warns and goes on, we cannot
        RoundTripTest.Machine dst2 = new RoundTripTest.Machine(false);
        assertTrue(loadFails(foreign, dst2).getMessage().contains("no complete vmdesc trailer"));
    }

    @Test
    void handlerSessionsAreClosedOnFailure() throws IOException {
        byte[] s = validStream();
        RoundTripTest.Machine dst = new RoundTripTest.Machine(false);
        loadFails(Arrays.copyOf(s, s.length / 2), dst);
        assertEquals(1, dst.live.loadSessionsClosed);
    }

    @Test
    void unmigratableDeviceBlocksLoad() throws IOException {
        byte[] s = validStream();
        RoundTripTest.Machine dst = new RoundTripTest.Machine(false);
        dst.registry.block("State blocked by non-migratable device 'dev-x'");
        IOException e = assertThrows(IOException.class,
                () -> dst.service().load(MigrationInput.of(s), MigrationSettings.DEFAULTS));
        assertEquals("State blocked by non-migratable device 'dev-x'", e.getMessage());
    }

    @Test
    void deviceRegisteredAsLiveRejectsStart() {
        BlobDevice d = new BlobDevice("dev-a", 0, 2, 1);
        FakeRegistry reg = new FakeRegistry().add(d, 5);
        byte[] s = concat(headerAndConfig(), new byte[] { 1, 0, 0, 0, 5, 5, 'd', 'e', 'v', '-', 'a', 0, 0, 0, 0, 0, 0, 0,
                2 });
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> new SaveVmService(reg, new BlobEngine(), Map.of()).load(MigrationInput.of(s),
                        MigrationSettings.DEFAULTS));
        assertTrue(e.getMessage().startsWith("START section for section 'dev-a' instance 0"), e.getMessage());
    }
}
