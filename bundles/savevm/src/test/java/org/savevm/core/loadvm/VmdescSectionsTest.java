package org.savevm.core.loadvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.stream.MigrationInput;

/** The vmdesc device list read straight from the stream: exactly its length consumed, its shape checked. */
class VmdescSectionsTest {

    private static List<VmdescSections.Entry> read(String json, String after) throws IOException {
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        byte[] all = (json + after).getBytes(StandardCharsets.UTF_8);
        MigrationInput in = MigrationInput.of(all);
        List<VmdescSections.Entry> e = VmdescSections.read(in, j.length);
        assertEquals(j.length, in.position(), "exactly the trailer's length is consumed");
        return e;
    }

    @Test
    void namesAndInstancesOfQemusFormWithEverythingElseSkipped() throws IOException {
        String json = "{\"page_size\": 4096, \"devices\": [{\"name\": \"timer\", \"instance_id\": 0, \"vmsd_name\": "
                + "\"timer\", \"version\": 2, \"fields\": [{\"name\": \"a\", \"type\": \"int64\", \"size\": 8, "
                + "\"struct\": {\"x\": [1, -2.5e3, true, false, null, {\"y\": [[]]}]}}]}, "
                + "{\"instance_id\": 1, \"name\": \"0000:00:01.0/caf\\u00e9\\n\\\"x\\\"\"}], \"extra\": {}}";
        List<VmdescSections.Entry> e = read(json, "tail");
        assertEquals(List.of(new VmdescSections.Entry("timer", 0), new VmdescSections.Entry("0000:00:01.0/caf\u00e9\n\"x\"",
                1)), e);
        assertEquals(List.of(), read("{\"devices\": []}", ""));
    }

    @Test
    void otherShapesAreMalformedAndTheTrailerIsStillConsumed() {
        for (String bad : new String[] {"[]", "{\"page_size\": 4096}", "{\"devices\": {}}",
                "{\"devices\": [{\"name\": 1, \"instance_id\": 0}]}", "{\"devices\": [{\"name\": \"a\"}]}",
                "{\"devices\": [{\"name\": \"a\", \"instance_id\": 1.5}]}", "{\"devices\": [", "{\"devices\" [] }",
                "{\"a\": " + "[".repeat(200) + "]".repeat(200) + ", \"devices\": []}"}) {
            byte[] j = bad.getBytes(StandardCharsets.UTF_8);
            MigrationInput in = MigrationInput.of((bad + "after").getBytes(StandardCharsets.UTF_8));
            VmdescSections.Malformed e = assertThrows(VmdescSections.Malformed.class,
                    () -> VmdescSections.read(in, j.length), bad);
            assertTrue(e.getMessage().startsWith("vmdesc JSON: "), e.getMessage());
            assertEquals(j.length, in.position(), bad);
        }
    }
}
