package org.savevm.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** issue 13 (d): stream strings in messages are inert. */
class PrintableTest {

    @Test
    void printableTextIsReturnedAsItIs() {
        String s = "0000:00:02.0/vga.vram caf\u00e9 \u65e5\u672c \ud83d\ude00 a\\x1b";
        assertSame(s, Printable.escape(s));
    }

    @Test
    void controlsFormatsAndSeparatorsAreEscaped() {
        assertEquals("pc\\x1b[31mram\\x1b[0m", Printable.escape("pc\u001b[31mram\u001b[0m"));
        assertEquals("a\\x0d\\x0afake log line\\x07\\x00\\x7f", Printable.escape("a\r\nfake log line\u0007\u0000\u007f"));
        assertEquals("C1 CSI \\x9b2J", Printable.escape("C1 CSI \u009b2J"));
        assertEquals("bidi \\u202eevil\\u202c sep \\u2028", Printable.escape("bidi \u202eevil\u202c sep \u2028"));
        assertEquals("lone \\ud800 surrogate", Printable.escape("lone \ud800 surrogate"));
        assertEquals("tab\\x09", Printable.escape("tab\t"));
    }

    @Test
    void escapingTwiceChangesNothing() {
        String once = Printable.escape("x\u001by\u202ez");
        assertEquals(once, Printable.escape(once));
    }

    @Test
    void migrationStreamExceptionMessagesAreEscaped() {
        MigrationStreamException e = new MigrationStreamException("Unknown ramblock \"pc\u001b]0;owned\u0007\"", 42);
        assertEquals("Unknown ramblock \"pc\\x1b]0;owned\\x07\" (at byte offset 42)", e.getMessage());
        assertFalse(e.getMessage().chars().anyMatch(c -> c < 0x20));
        MigrationStreamException wrapped = new MigrationStreamException("in x: " + e.getMessage(), 42, e);
        assertTrue(wrapped.getMessage().contains("pc\\x1b]0;owned\\x07"), wrapped.getMessage());
    }
}
