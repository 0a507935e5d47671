package org.savevm.vmstate.internal.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.stream.MigrationInput;
import org.savevm.vmstate.internal.VMStateInterpreter;
import org.savevm.vmstate.internal.VMStateLimits;

/**
 * issue 13: a descriptor built from untrusted JSON may not make the decoded state larger than the stream
 * bytes pay for. Repeated parts (array elements, subsections) may materialise at most
 * {@link JsonDescriptors#FREE_OBJECTS} values beyond {@link JsonDescriptors#OBJECTS_PER_WIRE_BYTE} per byte
 * they read; raw values are read as their bytes arrive. The fuzz input that showed it (392 bytes, 342 MB) is
 * {@code VmdescJsonFuzzTestInputs/vmdescDevice/crash-bb344711...}.
 */
class MaterialisedSizeTest {
    private final VMStateJsonComponent json = new VMStateJsonComponent();
    private final VMStateInterpreter engine = new VMStateInterpreter(VMStateLimits.DEFAULT);

    private static String entry(String fields) {
        return "{\"name\":\"dev\",\"instance_id\":0,\"vmsd_name\":\"dev\",\"version\":1,\"fields\":[" + fields + "]}";
    }

    @Test
    void anArrayOfRawValuesReadingNothingIsRefused() {
        IOException e = assertThrows(IOException.class, () -> json.fromVmdesc(
                entry("{\"name\":\"regs\",\"array_len\":888888,\"type\":\"buffer\",\"size\":0}")));
        assertEquals("fields[0]: field 'regs': 888888 elements would materialise 888888 values from 0 stream bytes"
                + " (at most 64 + 8 per byte)", e.getMessage());
    }

    @Test
    void anArrayOfStructsReadingNothingIsRefusedWhateverTheirDeclaredTypes() {
        // the fuzzer's case: the field's duplicate "type" keys and unknown members make it raw bytes of size 0,
        // though its first "type" says int32 (the earlier guess from the JSON took it for a 4-byte value)
        String element = "{\"vmsd_name\":\"dma_regs\",\"version\":1,\"fields\":[{\"name\":\"now\",\"arpay_len\":2,"
                + "\"type\":\"int32\",\"type\":\"uint16\",\"siype\":\"ut8\",\"size\":0}]}";
        IOException e = assertThrows(IOException.class, () -> json.fromVmdesc(entry(
                "{\"name\":\"regs\",\"array_len\":888888,\"type\":\"struct\",\"struct\":" + element + ",\"size\":17}")));
        assertTrue(e.getMessage().startsWith("fields[0]: field 'regs': 888888 elements would materialise 1777776 values"
                + " from 0 stream bytes"), e.getMessage());
        IOException empty = assertThrows(IOException.class, () -> json.fromVmdesc(entry(
                "{\"name\":\"regs\",\"array_len\":100,\"type\":\"struct\",\"struct\":{\"vmsd_name\":\"r\",\"version\":1},"
                        + "\"size\":1}")));
        assertTrue(empty.getMessage().contains("100 elements would materialise 100 values from 0 stream bytes"),
                empty.getMessage());
    }

    @Test
    void elementsMustPayForWhatTheyMaterialise() {
        // one byte read per element, eleven states made: too many per byte once the array is long
        StringBuilder empties = new StringBuilder();
        for (int k = 0; k < 10; k++) {
            empties.append(",{\"name\":\"e").append(k)
                    .append("\",\"type\":\"struct\",\"struct\":{\"vmsd_name\":\"x\",\"version\":1},\"size\":0}");
        }
        String element = "{\"vmsd_name\":\"r\",\"version\":1,\"fields\":[{\"name\":\"b\",\"type\":\"uint8\",\"size\":1}"
                + empties + "]}";
        IOException e = assertThrows(IOException.class, () -> json.fromVmdesc(entry(
                "{\"name\":\"regs\",\"array_len\":1000,\"type\":\"struct\",\"struct\":" + element + ",\"size\":1}")));
        assertTrue(e.getMessage().contains("1000 elements would materialise 12000 values from 1000 stream bytes"),
                e.getMessage());
    }

    @Test
    void aSubsectionMustPayForWhatEachOccurrenceMaterialises() {
        String sub = "{\"vmsd_name\":\"dev/big\",\"version\":1,\"fields\":[{\"name\":\"z\",\"array_len\":60,"
                + "\"type\":\"buffer\",\"size\":0},{\"name\":\"y\",\"array_len\":60,\"type\":\"buffer\",\"size\":0},"
                + "{\"name\":\"x\",\"array_len\":60,\"type\":\"buffer\",\"size\":0}]}";
        // each array alone is within the allowance; one occurrence (a 13-byte header) makes 183 values
        IOException e = assertThrows(IOException.class, () -> json.fromVmdesc(
                "{\"vmsd_name\":\"dev\",\"version\":1,\"subsections\":[" + sub + "]}"));
        assertTrue(e.getMessage().startsWith(
                "subsections[0]: subsection 'dev/big' would materialise 183 values from 13 stream bytes"), e.getMessage());
    }

    @Test
    void realShapesAreAcceptedAndDecode() throws IOException {
        // 16 structs of a uint8 and a uint32 (2 objects + the state per 5 bytes), a short array of empty
        // buffers, a subsection
        String element = "{\"vmsd_name\":\"r\",\"version\":1,\"fields\":[{\"name\":\"b\",\"type\":\"uint8\",\"size\":1},"
                + "{\"name\":\"w\",\"type\":\"uint32\",\"size\":4}]}";
        VMStateDescription<GenericState> d = json.fromVmdesc("{\"vmsd_name\":\"dev\",\"version\":1,\"fields\":["
                + "{\"name\":\"regs\",\"array_len\":16,\"type\":\"struct\",\"struct\":" + element + ",\"size\":5},"
                + "{\"name\":\"pad\",\"array_len\":4,\"type\":\"buffer\",\"size\":0}],"
                + "\"subsections\":[{\"vmsd_name\":\"dev/s\",\"version\":1,\"fields\":[{\"name\":\"v\",\"type\":\"uint16\","
                + "\"size\":2}]}]}");
        byte[] body = new byte[16 * 5 + 2 + 5 + 4 + 2];
        for (int i = 0; i < 16; i++) {
            body[i * 5] = (byte) i;
            body[i * 5 + 4] = (byte) (100 + i);
        }
        int at = 80;
        body[at++] = 0x05;
        body[at++] = 5;
        for (byte c : "dev/s".getBytes()) {
            body[at++] = c;
        }
        body[at + 3] = 1; // version 1
        at += 4;
        body[at + 1] = 7;
        GenericState state = new GenericState();
        MigrationInput in = MigrationInput.of(body);
        engine.load(in, d, state, 1);
        assertEquals(body.length, in.position());
        List<?> regs = (List<?>) state.get("regs");
        assertEquals(16, regs.size());
        assertEquals(15, ((GenericState) regs.get(15)).get("b"));
        assertEquals(115, ((GenericState) regs.get(15)).get("w"));
        assertArrayEquals(new byte[0], (byte[]) ((List<?>) state.get("pad")).get(3));
        assertEquals(7, ((GenericState) state.get("dev/s")).get("v"));
    }

    @Test
    void aLargeRawValueIsReadAsItsBytesArrive() throws IOException {
        VMStateDescription<GenericState> d = json.fromVmdesc(entry("{\"name\":\"ram\",\"type\":\"buffer\",\"size\":"
                + (48 << 20) + "}"));
        MigrationInput shortStream = MigrationInput.of(new byte[3 << 20]);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        IOException e = assertThrows(IOException.class, () -> engine.load(shortStream, d, new GenericState(), 1));
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(e.getMessage().startsWith("dev: field 'ram': unexpected end of stream"), e.getMessage());
        // the 3 MiB that arrived, copied while growing, and a chunk: nowhere near the 48 MiB declared
        assertTrue(allocated < 16L << 20, "allocated " + allocated + " bytes for a 3 MiB stream");

        VMStateDescription<GenericState> three = json.fromVmdesc(entry("{\"name\":\"ram\",\"type\":\"buffer\","
                + "\"size\":" + ((3 << 20) + 1) + "}"));
        byte[] whole = new byte[(3 << 20) + 1];
        whole[0] = 8;
        whole[whole.length - 1] = 9;
        GenericState state = new GenericState();
        engine.load(MigrationInput.of(whole), three, state, 1);
        assertArrayEquals(whole, (byte[]) state.get("ram"));
    }
}
