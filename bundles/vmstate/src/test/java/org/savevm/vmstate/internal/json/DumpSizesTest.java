package org.savevm.vmstate.internal.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.savevm.api.vmstate.VMStateFields.since;
import static org.savevm.api.vmstate.VMStateFields.struct;
import static org.savevm.api.vmstate.VMStateFields.structPointerArray;
import static org.savevm.api.vmstate.VMStateFields.uint32;
import static org.savevm.api.vmstate.VMStateFields.uint8;
import static org.savevm.api.vmstate.VMStateFields.vbuffer;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateField;
import org.savevm.api.vmstate.VMStateFields;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * -dump-vmstate sizes of fields over nested descriptors: sizeof the C struct (declared on the
 * descriptor), 8 for arrays of pointers, the value struct for a gtree; checked against QEMU 7.2's dump.
 */
class DumpSizesTest {
    static final class Fifo {
        byte[] data = new byte[16];
        int cap = 16, head, num;
    }

    static final class Uart {
        int lsr;
        Fifo fifo = new Fifo();
        Fifo[] fifos = new Fifo[2];
        java.util.SortedMap<Long, Fifo> tree = new java.util.TreeMap<>();
    }

    /** QEMU's Fifo8 descriptor: sizeof(Fifo8) is 24 on x86_64. */
    static final VMStateDescription<Fifo> FIFO8 = VMStateDescription.builder("Fifo8", Fifo.class).version(1)
            .minimumVersion(1).qemuStructSize(24)
            .field(since(1, vbuffer("data", f -> f.cap, f -> f.data)))
            .field(uint32("head", f -> f.head, (f, v) -> f.head = v))
            .field(uint32("num", f -> f.num, (f, v) -> f.num = v)).build();

    static JsonNode qemuDump() throws IOException {
        try (InputStream in = new GZIPInputStream(DumpSizesTest.class.getResourceAsStream(
                "/vmstate-pc-i440fx-7.2.json.gz"))) {
            return new ObjectMapper().readTree(in);
        }
    }

    @Test
    void structFieldShowsTheDeclaredStructSizeLikeQemu() throws IOException {
        VMStateDescription<Uart> serial = VMStateDescription.builder("serial", Uart.class).version(3)
                .minimumVersion(2)
                .field(uint8("lsr", u -> u.lsr, (u, v) -> u.lsr = v))
                .subsection(VMStateDescription.builder("serial/recv_fifo", Uart.class).version(1).minimumVersion(1)
                        .field(since(1, struct("recv_fifo", FIFO8, u -> u.fifo))).build())
                .build();
        JsonNode ours = new ObjectMapper().readTree(DumpVmstateWriter.dump("pc-i440fx-7.2", List.of(serial)));
        JsonNode qemuSub = null;
        for (JsonNode s : qemuDump().get("isa-serial").get("Description").get("Fields").get(0).get("Description")
                .get("Subsections")) {
            if (s.get("name").asText().equals("serial/recv_fifo")) {
                qemuSub = s;
            }
        }
        assertEquals(qemuSub, ours.get("serial").get("Description").get("Subsections").get(0));
        assertEquals(24, qemuSub.get("Fields").get(0).get("size").asInt());
    }

    @Test
    void pointerArraysGtreesAndExplicitSizes() throws IOException {
        VMStateDescription<Uart> d = VMStateDescription.builder("uart", Uart.class).version(1).minimumVersion(1)
                .field(structPointerArray("fifos", 2, FIFO8, u -> u.fifos))
                .field(VMStateFields.gtreeDirectKey("tree", 1, FIFO8, Fifo::new, u -> u.tree))
                .field(VMStateField.<Uart>builder("pinned").struct(FIFO8, 40)
                        .access(org.savevm.api.vmstate.ElementAccess.of(u -> u.fifo, null)).build())
                .build();
        JsonNode fields = new ObjectMapper().readTree(DumpVmstateWriter.dump("m", List.of(d))).get("uart")
                .get("Description").get("Fields");
        assertEquals(8, fields.get(0).get("size").asInt(), "sizeof(pointer)");
        assertEquals(24, fields.get(1).get("size").asInt(), "sizeof the gtree's value struct");
        assertEquals("Fifo8", fields.get(1).get("Description").get("name").asText());
        assertEquals(40, fields.get(2).get("size").asInt(), "a field's own size wins");

        // the dump with nested descriptors checks clean against itself, and a changed value struct shows
        String dump = DumpVmstateWriter.dump("m", List.of(d));
        JsonNode tree = new ObjectMapper().readTree(dump);
        assertEquals(List.of(), org.savevm.vmstate.internal.check.VmstateStaticChecker.check(tree, tree).messages());
        JsonNode newer = new ObjectMapper().readTree(dump);
        ((com.fasterxml.jackson.databind.node.ObjectNode) newer.get("uart").get("Description").get("Fields").get(1)
                .get("Description")).put("version_id", 2);
        assertEquals(List.of("Section \"uart\" Description \"Fifo8\": version error: 2 > 1"),
                org.savevm.vmstate.internal.check.VmstateStaticChecker.check(newer, tree).messages());
    }
}
