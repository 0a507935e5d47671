package org.savevm.vmstate.internal.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.testing.CorpusSection;
import org.savevm.testing.CorpusStreams;
import org.savevm.vmstate.internal.VMStateInterpreter;
import org.savevm.vmstate.internal.VMStateLimits;

/**
 * Every device section of QEMU 7.2's paused-16M.mig decodes through a descriptor built from the
 * stream's own vmdesc entry, and re-encodes to the same bytes and the same vmdesc text.
 */
class GenericCorpusTest {
    private final VMStateInterpreter engine = new VMStateInterpreter(VMStateLimits.DEFAULT);
    private final VMStateJsonComponent json = new VMStateJsonComponent();

    @Test
    void everyDeviceSectionRoundTripsThroughItsVmdesc() throws IOException {
        byte[] stream = CorpusStreams.bytes(CorpusStreams.PAUSED_16M);
        List<String[]> entries = CorpusSection.entries(stream);
        assertTrue(entries.size() > 20, "devices: " + entries.size());
        for (String[] e : entries) {
            CorpusSection sec = CorpusSection.find(stream, e[0], Integer.parseInt(e[1]));
            VMStateDescription<GenericState> d = json.fromVmdesc(sec.vmdescEntry());
            GenericState state = new GenericState();
            MigrationInput in = MigrationInput.of(sec.body(stream));
            engine.load(in, d, state, sec.version());
            assertEquals(sec.bodyLength(), in.position(), e[0]);

            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            MigrationOutput out = MigrationOutput.of(bos);
            StringBuilder vmdesc = new StringBuilder();
            engine.save(out, d, state, vmdesc);
            out.flush();
            assertEquals(HexFormat.of().formatHex(sec.body(stream)), HexFormat.of().formatHex(bos.toByteArray()),
                    e[0]);
            assertEquals(sec.vmdescMembers(), vmdesc.toString(), e[0]);
        }
    }

    @Test
    void genericValuesAreTyped() throws IOException {
        byte[] stream = CorpusStreams.bytes(CorpusStreams.PAUSED_16M);
        CorpusSection sec = CorpusSection.find(stream, "timer", 0);
        GenericState state = new GenericState();
        engine.load(MigrationInput.of(sec.body(stream)), json.fromVmdesc(sec.vmdescEntry()), state, sec.version());
        assertTrue(state.get("cpu_ticks_offset") instanceof Long, state.toString());
        assertTrue(state.get("unused") instanceof byte[], state.toString());
    }

    @Test
    void dumpDescriptionDecodesTheSectionItDescribes() throws IOException {
        com.fasterxml.jackson.databind.JsonNode dump;
        try (java.io.InputStream in = new java.util.zip.GZIPInputStream(
                getClass().getResourceAsStream("/vmstate-pc-i440fx-7.2.json.gz"))) {
            dump = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
        }
        VMStateDescription<GenericState> d = json.fromDump(dump.get("mc146818rtc").toString());
        assertEquals(3, d.version());
        assertEquals(1, d.minimumVersion());
        byte[] stream = CorpusStreams.bytes(CorpusStreams.PAUSED_16M);
        CorpusSection sec = CorpusSection.find(stream, "mc146818rtc", 0);
        GenericState state = new GenericState();
        MigrationInput in = MigrationInput.of(sec.body(stream));
        engine.load(in, d, state, sec.version());
        assertEquals(245, in.position());
        assertEquals(128, ((byte[]) state.get("cmos_data")).length);
        assertTrue(state.get("unused[1]") instanceof byte[], state.values().keySet().toString());
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bos);
        engine.save(out, d, state, null);
        out.flush();
        assertEquals(HexFormat.of().formatHex(sec.body(stream)), HexFormat.of().formatHex(bos.toByteArray()));
        // a version 1 load skips the fields the dump marks as version 2 and 3
        GenericState v1 = new GenericState();
        MigrationInput in1 = MigrationInput.of(sec.body(stream));
        engine.load(in1, d, v1, 1);
        assertEquals(128 + 1 + 28 + 8 + 8 + 24, in1.position());
    }

    @Test
    void oversizedJsonFieldsAreRefused() {
        String entry = "{\"vmsd_name\": \"x\", \"version\": 1, \"fields\": [{\"name\": \"big\","
                + " \"array_len\": 100000, \"type\": \"uint64\", \"size\": 100000}]}";
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> json.fromVmdesc(entry));
        assertTrue(e.getMessage().contains("field 'big'"), e.getMessage());
    }
}
