package org.savevm.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Loads corpus streams from test resources and builds a registry of blob devices from their vmdesc trailer. */
public final class CorpusStreams {
    private CorpusStreams() {
    }

    public static byte[] bytes(String name) throws IOException {
        try (InputStream in = CorpusStreams.class.getResourceAsStream("/corpus/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource /corpus/" + name);
            }
            return in.readAllBytes();
        }
    }

    /** The vmdesc JSON: the trailer is the last thing in the stream, so search from the end. */
    public static JsonNode vmdesc(byte[] stream) throws IOException {
        byte[] key = "{\"page_size\"".getBytes(StandardCharsets.US_ASCII);
        for (int i = stream.length - key.length; i >= 5; i--) {
            if (stream[i] == '{' && regionEquals(stream, i, key)) {
                int len = ByteBuffer.wrap(stream, i - 4, 4).getInt();
                if (stream[i - 5] == 0x06 && i + len == stream.length) {
                    return new ObjectMapper().readTree(new String(stream, i, len, StandardCharsets.UTF_8));
                }
            }
        }
        throw new IOException("no vmdesc trailer");
    }

    private static boolean regionEquals(byte[] a, int at, byte[] b) {
        for (int i = 0; i < b.length; i++) {
            if (a[at + i] != b[i]) {
                return false;
            }
        }
        return true;
    }

    /** Body size of a device section from its vmdesc entry: field sizes plus subsections with their headers. */
    public static int bodySize(JsonNode entry) {
        int size = 0;
        for (JsonNode f : entry.path("fields")) {
            size += f.path("size").asInt() * (f.has("array_len") ? f.get("array_len").asInt() : 1);
        }
        for (JsonNode sub : entry.path("subsections")) {
            size += 1 + 1 + sub.get("vmsd_name").asText().length() + 4 + bodySize(sub);
        }
        return size;
    }

    /** A registry with the skipping RAM handler and a blob device per vmdesc entry (section ids made up). */
    public static FakeRegistry registryFor(byte[] stream, SkippingRamHandler ram) throws IOException {
        FakeRegistry reg = new FakeRegistry();
        int id = 0;
        reg.add(ram, 100);
        for (JsonNode d : vmdesc(stream).get("devices")) {
            // order keys that keep the stream's order in a registry that sorts by them
            reg.add(new BlobDevice(d.get("name").asText(), d.get("instance_id").asInt(), d.get("version").asInt(),
                    bodySize(d), String.format("%04d", id + 1)), id++);
        }
        return reg;
    }
}
