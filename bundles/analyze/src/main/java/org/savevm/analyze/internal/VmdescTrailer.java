package org.savevm.analyze.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.savevm.api.analyze.ForeignSectionReaders;
import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateJson;
import org.savevm.framing.SectionType;
import org.savevm.stream.MigrationStreamException;
import org.savevm.stream.Printable;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The vmdesc JSON trailer of a stream file, found before the stream is walked (device sections can only
 * be decoded with it, and it comes last). It is located from the end of the file by its exact framing:
 * EOF byte 0x00, type 0x06, a be32 length reaching exactly to the end of the file, then '{'. The file is
 * scanned backwards in 1 MiB windows, never further than the longest trailer accepted.
 */
final class VmdescTrailer {
    private static final int WINDOW = 1 << 20;

    /** One {@code devices} entry: its own JSON text (as the stream carried it) and its parsed tree. */
    static final class Entry {
        final String text;
        final JsonNode node;
        /** Where the entry is: {@code devices[N]} and its name and instance, for messages. */
        final String where;
        private VMStateDescription<GenericState> descriptor;

        Entry(String text, JsonNode node, String where) {
            this.text = text;
            this.node = node;
            this.where = where;
        }

        /** The entry as a descriptor; a JSON of the wrong shape is refused naming the member's path. */
        VMStateDescription<GenericState> descriptor(VMStateJson json) throws IOException {
            if (descriptor == null) {
                try {
                    descriptor = json.fromVmdesc(text);
                } catch (MigrationStreamException e) {
                    throw e;
                } catch (IOException e) {
                    throw new IOException("vmdesc " + where + " cannot describe the section: " + e.getMessage(), e);
                }
            }
            return descriptor;
        }
    }

    final long offset;
    final long length;
    final int pageSize;
    final int deviceCount;
    private final Map<String, Entry> entries;

    private VmdescTrailer(long offset, long length, int pageSize, int deviceCount, Map<String, Entry> entries) {
        this.offset = offset;
        this.length = length;
        this.pageSize = pageSize;
        this.deviceCount = deviceCount;
        this.entries = entries;
    }

    /** The entry of section {@code idstr} instance {@code instanceId}, or null. */
    Entry entry(String idstr, long instanceId) {
        return entries.get(key(idstr, instanceId));
    }

    private static String key(String idstr, long instanceId) {
        return idstr + '\0' + instanceId;
    }

    /**
     * Finds and parses the trailer, or returns null when the file has none. A trailer whose framing is
     * found but whose JSON is broken is an error naming its offset.
     */
    static VmdescTrailer locate(FileChannel ch, long size, long maxLength, ObjectMapper mapper) throws IOException {
        return locate(ch::read, size, maxLength, mapper);
    }

    /** As {@link #locate(FileChannel, long, long, ObjectMapper)}, for any stream readable at a position. */
    static VmdescTrailer locate(ForeignSectionReaders.PositionalReader ch, long size, long maxLength, ObjectMapper mapper)
            throws IOException {
        // candidate p: type byte at p, EOF byte at p-1, header (8 bytes) before that, '{' at p+5
        long lowest = Math.max(9, size - maxLength - 5);
        long highest = size - 6;
        ByteBuffer buf = ByteBuffer.allocate(WINDOW + 6);
        for (long hi = highest; hi >= lowest; hi -= WINDOW) {
            long lo = Math.max(lowest, hi - WINDOW + 1);
            long readFrom = lo - 1;
            long readTo = Math.min(size, hi + 6);
            buf.clear().limit((int) (readTo - readFrom));
            readFully(ch, buf, readFrom);
            // the type bytes are found by the JDK's String.lastIndexOf over a Latin-1 copy of the window (one
            // char per byte) rather than a compare per byte here: a file without a trailer is scanned whole,
            // and under the fuzzer's instrumentation every compare in this class is traced (~10 ms a file)
            String window = new String(buf.array(), 0, buf.limit(), StandardCharsets.ISO_8859_1);
            for (int i = window.lastIndexOf(SectionType.VMDESCRIPTION, (int) (hi - readFrom)); i >= lo - readFrom;
                    i = window.lastIndexOf(SectionType.VMDESCRIPTION, i - 1)) {
                long p = readFrom + i;
                if (buf.get(i + 5) == '{' && buf.get(i - 1) == SectionType.EOF
                        && Integer.toUnsignedLong(buf.getInt(i + 1)) == size - p - 5) {
                    return parse(ch, p, size - p - 5, mapper);
                }
            }
        }
        return null;
    }

    private static void readFully(ForeignSectionReaders.PositionalReader ch, ByteBuffer buf, long at)
            throws IOException {
        long pos = at;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new MigrationStreamException("file shrank while it was read", pos);
            }
            pos += n;
        }
    }

    private static VmdescTrailer parse(ForeignSectionReaders.PositionalReader ch, long at, long length,
            ObjectMapper mapper) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) length);
        readFully(ch, b, at + 5);
        String text = new String(b.array(), StandardCharsets.UTF_8);
        int pageSize = 0;
        int count = 0;
        Map<String, Entry> entries = new HashMap<>();
        try (JsonParser p = mapper.getFactory().createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                JsonToken t = p.nextToken();
                if ("page_size".equals(name) && t == JsonToken.VALUE_NUMBER_INT) {
                    pageSize = p.getIntValue();
                } else if ("devices".equals(name) && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        int start = (int) p.getTokenLocation().getCharOffset();
                        p.skipChildren();
                        int end = (int) p.getCurrentLocation().getCharOffset();
                        String raw = text.substring(start, end);
                        JsonNode node = mapper.readTree(raw);
                        JsonNode devName = node.get("name");
                        JsonNode inst = node.get("instance_id");
                        if (devName == null || !devName.isTextual() || inst == null || !inst.canConvertToLong()) {
                            throw new IOException("device entry " + count + " lacks \"name\" or \"instance_id\"");
                        }
                        String where = "devices[" + count + "] ('" + Printable.escape(devName.asText())
                                + "' instance " + inst.asLong() + ")";
                        entries.putIfAbsent(key(devName.asText(), inst.asLong()), new Entry(raw, node, where));
                        count++;
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new MigrationStreamException("vmdesc trailer of " + length + " bytes is not usable JSON: "
                    + e.getMessage().lines().findFirst().orElse(""), at);
        }
        return new VmdescTrailer(at, length, pageSize, count, entries);
    }
}
