package org.savevm.stream.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class JsonTextTest {
    @Test
    void escapesLikeQemuJsonWriter() {
        assertEquals("\"0000:00:01.0/PIIX3\"", JsonText.quoted("0000:00:01.0/PIIX3"));
        assertEquals("\"a\\\"b\\\\c\\n\\t\\r\\b\\f\"", JsonText.quoted("a\"b\\c\n\t\r\b\f"));
        assertEquals("\"\\u0001\\u007F\\u00E9\"", JsonText.quoted("\u0001\u007f\u00e9"));
        assertEquals("\"\\uD83D\\uDE00\"", JsonText.quoted("\uD83D\uDE00"));
    }
}
