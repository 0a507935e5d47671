package org.savevm.device.serial.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.testing.CorpusSection;
import org.savevm.vmstate.internal.check.VmstateStaticChecker;
import org.savevm.vmstate.internal.json.DumpVmstateWriter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Our isa-serial descriptors dump as QEMU 7.2's -dump-vmstate and check compatible both ways. */
class SerialDumpCompatTest {
    @Test
    void dumpMatchesQemuAndChecksCompatible() throws IOException {
        String qemu = new String(CorpusSection.resource("qemu-7.2-dump-isa-serial.json"), StandardCharsets.UTF_8);
        String ours = DumpVmstateWriter.dump("pc-i440fx-7.2", List.of(new SerialDevice().description()));
        // struct fields show sizeof() of QEMU's C structs, declared on the descriptors: the same text
        assertEquals(qemu, ours);
        ObjectMapper m = new ObjectMapper();
        JsonNode q = m.readTree(qemu);
        JsonNode o = m.readTree(ours);
        assertEquals(List.of(), VmstateStaticChecker.check(q, o).messages());
        assertEquals(List.of(), VmstateStaticChecker.check(o, q).messages());
    }
}
