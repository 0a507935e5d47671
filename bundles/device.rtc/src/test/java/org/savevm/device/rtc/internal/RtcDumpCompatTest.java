package org.savevm.device.rtc.internal;

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

/** Our mc146818rtc descriptor dumps exactly as QEMU 7.2's -dump-vmstate and checks compatible both ways. */
class RtcDumpCompatTest {
    @Test
    void dumpMatchesQemuAndChecksCompatible() throws IOException {
        String qemu = new String(CorpusSection.resource("qemu-7.2-dump-mc146818rtc.json"), StandardCharsets.UTF_8);
        String ours = DumpVmstateWriter.dump("pc-i440fx-7.2", List.of(new RtcDevice(0).description()));
        assertEquals(qemu, ours);
        ObjectMapper m = new ObjectMapper();
        JsonNode q = m.readTree(qemu);
        JsonNode o = m.readTree(ours);
        assertEquals(List.of(), VmstateStaticChecker.check(q, o).messages());
        assertEquals(List.of(), VmstateStaticChecker.check(o, q).messages());
    }
}
