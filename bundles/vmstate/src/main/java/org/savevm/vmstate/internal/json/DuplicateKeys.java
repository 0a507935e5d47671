package org.savevm.vmstate.internal.json;

import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * QEMU's vmdesc repeats keys inside one object: a qtailq, qlist or gtree field carries its element
 * descriptor's "vmsd_name"/"version"/"fields" once per element. A JSON tree keeps only one of them, so
 * the text is read with every repeat renamed to {@code key + MARK + n} (n = 1, 2, ...) and the members
 * are written back with {@link #original(String)}, which restores QEMU's text.
 */
final class DuplicateKeys {
    static final char MARK = '\u0000';

    private DuplicateKeys() {
    }

    static JsonNode readTree(ObjectMapper mapper, String json) throws IOException {
        JsonFactory f = mapper.getFactory();
        StringWriter text = new StringWriter(json.length());
        try (JsonParser p = f.createParser(json); JsonGenerator g = f.createGenerator(text)) {
            Deque<Map<String, Integer>> seen = new ArrayDeque<>();
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                switch (t) {
                case START_OBJECT -> {
                    seen.push(new HashMap<>());
                    g.writeStartObject();
                }
                case END_OBJECT -> {
                    seen.pop();
                    g.writeEndObject();
                }
                case FIELD_NAME -> {
                    String key = p.currentName();
                    int n = seen.peek().merge(key, 1, Integer::sum) - 1;
                    g.writeFieldName(n == 0 ? key : key + MARK + n);
                }
                default -> g.copyCurrentEvent(p);
                }
            }
        }
        return mapper.readTree(text.toString());
    }

    /** The key as QEMU wrote it. */
    static String original(String key) {
        int i = key.indexOf(MARK);
        return i < 0 ? key : key.substring(0, i);
    }
}
