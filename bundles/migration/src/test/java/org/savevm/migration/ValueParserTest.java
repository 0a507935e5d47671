package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.savevm.migration.params.ValueParser;

class ValueParserTest {
    @Test
    void sizesWithAndWithoutSuffix() {
        assertEquals(4096, ValueParser.parseSize("4096", 0));
        assertEquals(4096, ValueParser.parseSize("4K", 0));
        assertEquals(4096, ValueParser.parseSize("4k", 0));
        assertEquals(1L << 30, ValueParser.parseSize("1G", 0));
        assertEquals(1L << 40, ValueParser.parseSize("1T", 0));
        assertEquals(1536L << 20, ValueParser.parseSize("1.5G", 0));
        assertEquals(7, ValueParser.parseSize("7B", 20));
        assertEquals(7L << 20, ValueParser.parseSize("7", 20));
        assertThrows(IllegalArgumentException.class, () -> ValueParser.parseSize("", 0));
        assertThrows(IllegalArgumentException.class, () -> ValueParser.parseSize("-1K", 0));
        assertThrows(IllegalArgumentException.class, () -> ValueParser.parseSize("12Q", 0));
        assertThrows(IllegalArgumentException.class, () -> ValueParser.parseSize("9000000T", 0));
    }
}
