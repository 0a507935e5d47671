package org.savevm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.IncomingCommands;
import org.savevm.api.LoadReport;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * issue 13 (c) on real QEMU 7.2 streams: their vmdesc trailer is read and every section it lists arrived;
 * the same stream cut where its device sections begin names what never came.
 */
class CorpusVmdescCheckTest {

    private static LoadReport load(byte[] registryFrom, byte[] stream) throws IOException {
        FakeRegistry reg = CorpusStreams.registryFor(registryFrom, new SkippingRamHandler());
        MigrationContext context = new MigrationContext(MigrationSettings.DEFAULTS);
        new SaveVmService(reg, new BlobEngine(), Map.of()).load(MigrationInput.of(stream), context,
                IncomingCommands.NONE);
        return context.find(LoadReport.class).orElseThrow();
    }

    /** The FULL section header of "timer" instance 0. */
    private static int timerSection(byte[] s) {
        byte[] name = {5, 't', 'i', 'm', 'e', 'r', 0, 0, 0, 0};
        for (int i = 5; i + name.length <= s.length; i++) {
            if (s[i - 5] == 0x04 && Arrays.equals(s, i, i + name.length, name, 0, name.length)) {
                return i - 5;
            }
        }
        throw new AssertionError("no timer section");
    }

    private static int eofBeforeTrailer(byte[] s) {
        String text = new String(s, StandardCharsets.ISO_8859_1);
        int at = text.lastIndexOf("{\"page_size\"") - 6;
        assertEquals(0x00, s[at]);
        assertEquals(0x06, s[at + 1]);
        return at;
    }

    @Test
    void realStreamsAreCheckedAgainstTheirOwnVmdesc() throws IOException {
        for (String name : List.of("paused-16M.mig", "serial-16M.mig")) {
            byte[] s = CorpusStreams.bytes(name);
            LoadReport r = load(s, s);
            assertTrue(r.vmdescChecked(), name);
            assertEquals(List.of(), r.notReceived(), name);
        }
    }

    @Test
    void realStreamCutBeforeItsDevicesAndClosedWithEofFailsNamingThemAll() throws IOException {
        byte[] s = CorpusStreams.bytes("paused-16M.mig");
        int timer = timerSection(s);
        byte[] cut = Arrays.copyOf(s, timer + 1);
        cut[timer] = 0x00; // EOF
        MigrationStreamException e = assertThrows(MigrationStreamException.class, () -> load(s, cut));
        assertTrue(e.getMessage().startsWith("the stream has no complete vmdesc trailer after its EOF marker "
                + "(nothing follows the EOF marker)"), e.getMessage());
        assertTrue(e.getMessage().contains("registered sections that received nothing: 'timer' instance 0, "
                + "'cpu_common' instance 0"), e.getMessage());
        assertTrue(e.getMessage().contains("'globalstate' instance 0"), e.getMessage());
        assertEquals(timer + 1, e.offset());
    }

    @Test
    void realStreamWithItsDevicesRemovedButItsVmdescKeptFails() throws IOException {
        byte[] s = CorpusStreams.bytes("paused-16M.mig");
        int timer = timerSection(s);
        int eof = eofBeforeTrailer(s);
        byte[] removed = new byte[s.length - (eof - timer)];
        System.arraycopy(s, 0, removed, 0, timer);
        System.arraycopy(s, eof, removed, timer, s.length - eof);
        MigrationStreamException e = assertThrows(MigrationStreamException.class, () -> load(s, removed));
        assertTrue(e.getMessage().contains("the source's vmdesc trailer lists "), e.getMessage());
        assertTrue(e.getMessage().contains("that never arrived: 'timer' instance 0, "), e.getMessage());
        assertEquals(timer + 1, e.offset());
    }
}
