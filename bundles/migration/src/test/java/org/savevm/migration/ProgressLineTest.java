package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.savevm.migration.progress.ProgressLine;

class ProgressLineTest {
    @Test
    void rendersABarAndPercent() {
        assertEquals("[###############...............]  50.0% x", ProgressLine.render(0.5, "x"));
        assertEquals("[..............................]   0.0% y", ProgressLine.render(-1, "y"));
        assertEquals("[##############################] 100.0% z", ProgressLine.render(2, "z"));
    }

    @Test
    void redrawsInPlaceAndBlanksLeftovers() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ProgressLine p = new ProgressLine(new PrintStream(b, true, StandardCharsets.UTF_8), 0);
        p.update(0.1, "a long detail");
        p.update(0.2, "short");
        p.finish();
        String s = b.toString(StandardCharsets.UTF_8);
        String[] parts = s.split("\r");
        assertEquals(3, parts.length);
        assertTrue(parts[2].startsWith(ProgressLine.render(0.2, "short")));
        assertEquals(parts[1].length(), parts[2].trim().length() + (parts[1].length() - parts[2].trim().length()));
        assertTrue(parts[2].endsWith(" ".repeat("a long detail".length() - "short".length()) + System.lineSeparator()));
    }
}
