package org.savevm.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Test helper: finds a FULL device section of a real QEMU stream by idstr and instance, with its body
 * length taken from the stream's vmdesc trailer and the trailer's JSON entry for that section.
 */
public record CorpusSection(int sectionId, int version, int bodyOffset, int bodyLength, String vmdescEntry) {

    /** A test resource of the module under test, by its name at the root of its test resources. */
    public static byte[] resource(String name) throws IOException {
        try (InputStream in = CorpusSection.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return in.readAllBytes();
        }
    }

    public static CorpusSection find(byte[] stream, String idstr, int instance) throws IOException {
        byte[] marker = "{\"page_size\"".getBytes(StandardCharsets.US_ASCII);
        int json = lastIndexOf(stream, marker);
        if (json < 5 || stream[json - 5] != 0x06 || ByteBuffer.wrap(stream, json - 4, 4).getInt() != stream.length - json) {
            throw new IOException("no vmdesc trailer");
        }
        String text = new String(stream, json, stream.length - json, StandardCharsets.UTF_8);
        JsonNode entry = null;
        for (JsonNode d : new ObjectMapper().readTree(text).get("devices")) {
            if (d.get("name").asText().equals(idstr) && d.get("instance_id").asInt() == instance) {
                entry = d;
            }
        }
        if (entry == null) {
            throw new IOException("no vmdesc entry for " + idstr + " " + instance);
        }
        int bodyLength = bodyLength(entry);

        byte[] name = idstr.getBytes(StandardCharsets.US_ASCII);
        byte[] pattern = ByteBuffer.allocate(1 + name.length + 4).put((byte) name.length).put(name).putInt(instance)
                .array();
        for (int i = indexOf(stream, pattern, 5); i >= 0; i = indexOf(stream, pattern, i + 1)) {
            if (stream[i - 5] == 0x04) {
                ByteBuffer b = ByteBuffer.wrap(stream);
                int sectionId = b.getInt(i - 4);
                int version = b.getInt(i + pattern.length);
                int body = i + pattern.length + 4;
                return new CorpusSection(sectionId, version, body, bodyLength, entryText(text, idstr, instance));
            }
        }
        throw new IOException("no FULL section " + idstr + " " + instance);
    }

    /** Every (name, instance_id) of the stream's vmdesc, in stream order. */
    public static java.util.List<String[]> entries(byte[] stream) throws IOException {
        byte[] marker = "{\"page_size\"".getBytes(StandardCharsets.US_ASCII);
        int json = lastIndexOf(stream, marker);
        String text = new String(stream, json, stream.length - json, StandardCharsets.UTF_8);
        java.util.List<String[]> out = new java.util.ArrayList<>();
        for (JsonNode d : new ObjectMapper().readTree(text).get("devices")) {
            out.add(new String[] {d.get("name").asText(), d.get("instance_id").asText()});
        }
        return out;
    }

    public byte[] body(byte[] stream) {
        return Arrays.copyOfRange(stream, bodyOffset, bodyOffset + bodyLength);
    }

    /** The vmdesc members the engine writes (the entry without name, instance_id and braces). */
    public String vmdescMembers() {
        int start = vmdescEntry.indexOf("\"vmsd_name\"");
        return vmdescEntry.substring(start, vmdescEntry.length() - 1);
    }

    private static int bodyLength(JsonNode vmsd) {
        int n = 0;
        for (JsonNode f : vmsd.get("fields")) {
            n += f.get("size").asInt() * (f.has("array_len") ? f.get("array_len").asInt() : 1);
        }
        if (vmsd.has("subsections")) {
            for (JsonNode s : vmsd.get("subsections")) {
                n += 2 + s.get("vmsd_name").asText().length() + 4 + bodyLength(s);
            }
        }
        return n;
    }

    private static String entryText(String json, String idstr, int instance) {
        int start = json.indexOf("{\"name\": \"" + idstr + "\", \"instance_id\": " + instance + ",");
        int depth = 0;
        for (int i = start; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return json.substring(start, i + 1);
            }
        }
        throw new IllegalStateException("unterminated vmdesc entry");
    }

    private static int lastIndexOf(byte[] a, byte[] p) {
        for (int i = a.length - p.length; i >= 0; i--) {
            if (Arrays.equals(a, i, i + p.length, p, 0, p.length)) {
                return i;
            }
        }
        return -1;
    }

    private static int indexOf(byte[] a, byte[] p, int from) {
        for (int i = from; i <= a.length - p.length; i++) {
            if (Arrays.equals(a, i, i + p.length, p, 0, p.length)) {
                return i;
            }
        }
        return -1;
    }
}
