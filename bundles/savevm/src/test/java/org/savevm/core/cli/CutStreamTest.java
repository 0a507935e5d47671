package org.savevm.core.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.LoadReport;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.core.SaveVmService;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * issue 13 (c): a stream cut after its live section and closed with an EOF byte loaded as a success
 * with nothing said about the device sections that never came.
 */
class CutStreamTest {
    @TempDir
    Path tmp;

    final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    /** A whole stream saved by save-state: test-live START/PART/END, FULL 'dev', EOF, vmdesc. */
    private byte[] saved() throws Exception {
        Path file = tmp.resolve("whole.mig");
        assertEquals(0, new SaveStateCommand(StateFileCommandsTest.vm((byte) 0x5a).service())
                .run(List.of(file.toString()), out, err), errBytes.toString());
        return Files.readAllBytes(file);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    /** Where the FULL section of 'dev' starts (its type byte). */
    private static int devSection(byte[] s) {
        int at = indexOf(s, new byte[] {3, 'd', 'e', 'v'}) - 5;
        assertEquals(0x04, s[at], "FULL type byte");
        return at;
    }

    /** Where the EOF byte before the vmdesc trailer is. */
    private static int eof(byte[] s) {
        int at = indexOf(s, "{\"page_size\"".getBytes(StandardCharsets.US_ASCII)) - 6;
        assertEquals(0x00, s[at]);
        assertEquals(0x06, s[at + 1]);
        return at;
    }

    private int load(byte[] stream, String name) throws Exception {
        Path f = tmp.resolve(name);
        Files.write(f, stream);
        return new LoadStateCommand(StateFileCommandsTest.vm((byte) 0).service()).run(List.of(f.toString()), out, err);
    }

    @Test
    void wholeStreamLoadsWithoutAWarning() throws Exception {
        byte[] s = saved();
        assertEquals(0, load(s, "whole.mig"), errBytes.toString());
        assertEquals("", errBytes.toString());
        StateFileCommandsTest.Vm dst = StateFileCommandsTest.vm((byte) 0);
        MigrationContext context = new MigrationContext(MigrationSettings.DEFAULTS);
        dst.service().load(MigrationInput.of(s), context, org.savevm.api.IncomingCommands.NONE);
        LoadReport report = context.find(LoadReport.class).orElseThrow();
        assertEquals(List.of(), report.notReceived());
        assertTrue(report.vmdescChecked());
    }

    @Test
    void cutAfterTheLiveSectionAndClosedWithEofFailsNamingTheDeviceThatGotNothing() throws Exception {
        byte[] s = saved();
        int dev = devSection(s);
        byte[] cut = Arrays.copyOf(s, dev + 1); // EOF where the device section began, no trailer
        cut[dev] = 0x00;
        assertEquals(1, load(cut, "cut.mig"), errBytes.toString());
        assertTrue(errBytes.toString().contains("load-state: the stream has no complete vmdesc trailer after its EOF "
                + "marker (nothing follows the EOF marker); QEMU 7.2 and savevm end every precopy stream with one, so "
                + "this stream was cut short or damaged and nothing may run on this state; registered sections that "
                + "received nothing: 'dev' instance 0 (at byte offset " + (dev + 1) + ")"), errBytes.toString());
        StateFileCommandsTest.Vm dst = StateFileCommandsTest.vm((byte) 0);
        MigrationContext context = new MigrationContext(MigrationSettings.DEFAULTS);
        org.junit.jupiter.api.Assertions.assertThrows(MigrationStreamException.class,
                () -> dst.service().load(MigrationInput.of(cut), context, org.savevm.api.IncomingCommands.NONE));
        assertTrue(context.find(LoadReport.class).isEmpty(), "a failed load publishes no report");
        assertEquals(0, dst.dev().commits);
    }

    /**
     * issue 13 item 2: a stream savevm wrote, cut anywhere (every byte, so also right before its EOF byte, right
     * after it before the trailer, and inside the trailer), and cut at every section boundary and closed with an
     * EOF byte, never loads as complete.
     */
    @Test
    void savevmStreamCutAnywhereIsNeverCompleted() throws Exception {
        byte[] s = saved();
        int eof = eof(s);
        List<Integer> boundaries = new java.util.ArrayList<>(List.of(devSection(s), eof));
        for (int cut = 0; cut < s.length; cut++) {
            assertCutFails(Arrays.copyOf(s, cut), "cut at " + cut + " of " + s.length + " (EOF at " + eof + ")");
            if (s[cut] >= 0x01 && s[cut] <= 0x04 && cut > 8) {
                boundaries.add(cut); // maybe a section type byte: closed with EOF there
            }
        }
        for (int at : boundaries) {
            byte[] closed = Arrays.copyOf(s, at + 1);
            closed[at] = 0x00;
            assertCutFails(closed, "cut at " + at + " and closed with EOF");
        }
        StateFileCommandsTest.Vm whole = StateFileCommandsTest.vm((byte) 0);
        whole.service().load(MigrationInput.of(s), MigrationSettings.DEFAULTS); // the uncut stream loads
    }

    /**
     * A machine configured with suppress-vmdesc (QEMU's machine property) writes no trailer, and loads its
     * peers' trailer-less streams; a machine without it refuses them as cut.
     */
    @Test
    void suppressVmdescOnBothEndsLoadsWithoutTrailer() throws Exception {
        StateFileCommandsTest.Vm src = StateFileCommandsTest.vm((byte) 0x33);
        SaveVmService suppressing = new SaveVmService(src.registry(), new org.savevm.core.testing.BlobEngine(),
                java.util.Map.of("suppress-vmdesc", "true"));
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (org.savevm.stream.MigrationOutput o = org.savevm.stream.MigrationOutput.of(bytes)) {
            try (org.savevm.api.SaveVm.Outgoing out = suppressing.beginSave(o, MigrationSettings.DEFAULTS)) {
                while (!out.iterate()) {
                    // the chunked live handler converges
                }
                out.complete();
            }
        }
        byte[] s = bytes.toByteArray();
        assertEquals(0x00, s[s.length - 1], "ends at its EOF marker");
        StateFileCommandsTest.Vm dst = StateFileCommandsTest.vm((byte) 0);
        new SaveVmService(dst.registry(), new org.savevm.core.testing.BlobEngine(),
                java.util.Map.of("suppress-vmdesc", "true")).load(MigrationInput.of(s), MigrationSettings.DEFAULTS);
        assertEquals(1, dst.dev().commits);
        assertCutFails(s, "a trailer-less stream on a machine without suppress-vmdesc");
    }

    private static void assertCutFails(byte[] cut, String what) {
        StateFileCommandsTest.Vm dst = StateFileCommandsTest.vm((byte) 0);
        MigrationStreamException e = org.junit.jupiter.api.Assertions.assertThrows(MigrationStreamException.class,
                () -> dst.service().load(MigrationInput.of(cut), MigrationSettings.DEFAULTS), what);
        assertTrue(e.offset() >= 0 && e.offset() <= cut.length, what + ": " + e.getMessage());
    }

    @Test
    void sectionTheSourcesVmdescListsButThatNeverArrivedFailsTheLoad() throws Exception {
        byte[] s = saved();
        int dev = devSection(s);
        int eof = eof(s);
        byte[] removed = new byte[s.length - (eof - dev)];
        System.arraycopy(s, 0, removed, 0, dev);
        System.arraycopy(s, eof, removed, dev, s.length - eof);
        assertEquals(1, load(removed, "removed.mig"), outBytes.toString());
        assertTrue(errBytes.toString().contains("the source's vmdesc trailer lists 1 section that never arrived: "
                + "'dev' instance 0"), errBytes.toString());
        assertTrue(errBytes.toString().contains("(at byte offset " + (dev + 1) + ")"), errBytes.toString());
        StateFileCommandsTest.Vm dst = StateFileCommandsTest.vm((byte) 0);
        MigrationStreamException e = org.junit.jupiter.api.Assertions.assertThrows(MigrationStreamException.class,
                () -> dst.service().load(MigrationInput.of(removed), MigrationSettings.DEFAULTS));
        assertTrue(e.getMessage().contains("never arrived"), e.getMessage());
    }

    @Test
    void foreignOrCutTrailerFailsTheLoad() throws Exception {
        byte[] s = saved();
        int eof = eof(s);
        // the trailer cut in its JSON, and one whose JSON is not a vmdesc: neither tells the stream is whole
        assertEquals(1, load(Arrays.copyOf(s, s.length - 10), "cuttrailer.mig"), errBytes.toString());
        assertTrue(errBytes.toString().contains("(its vmdesc trailer of " + (s.length - eof - 6)
                + " bytes is beyond the limit of 67108864 bytes or cut short)"), errBytes.toString());
        byte[] foreign = Arrays.copyOf(s, eof + 6 + 2);
        foreign[eof + 2] = 0;
        foreign[eof + 3] = 0;
        foreign[eof + 4] = 0;
        foreign[eof + 5] = 2;
        foreign[eof + 6] = '[';
        foreign[eof + 7] = ']';
        assertEquals(1, load(foreign, "foreign.mig"), errBytes.toString());
        assertTrue(errBytes.toString().contains("(the trailer's JSON is not a vmdesc: "), errBytes.toString());
    }
}
