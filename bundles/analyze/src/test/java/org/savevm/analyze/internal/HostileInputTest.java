package org.savevm.analyze.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
}
