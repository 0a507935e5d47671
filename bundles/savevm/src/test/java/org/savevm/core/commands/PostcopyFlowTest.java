package org.savevm.core.commands;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SaveVm;
import org.savevm.core.SaveVmService;
import org.savevm.framing.commands.CommandWriter;
import org.savevm.core.testing.BlobDevice;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.ChunkedLiveHandler;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/** The postcopy_start sequence through SaveVm.Outgoing's postcopy steps, loaded back with the same commands. */
class PostcopyFlowTest {
    static final MigrationSettings POSTCOPY = MigrationSettings.DEFAULTS.withCapability("postcopy-ram", true);

    record Vm(ChunkedLiveHandler ram, ChunkedLiveHandler blk, BlobDevice dev, SaveVmService service) {
    }

    static Vm vm(byte fill) {
        ChunkedLiveHandler ram = new ChunkedLiveHandler("ram-like", 40, 5);
        ram.postcopy = true;
        ChunkedLiveHandler blk = new ChunkedLiveHandler("blk-like", 10, 5);
        BlobDevice dev = new BlobDevice("dev", 0, 1, new byte[] { fill, fill, fill });
        FakeRegistry reg = new FakeRegistry().add(blk, 1).add(ram, 2).add(dev, 3);
        return new Vm(ram, blk, dev, new SaveVmService(reg, new BlobEngine(), Map.of()));
    }

    @Test
    void postcopySwitchoverStreamLoads() throws IOException {
        Vm src = vm((byte) 9);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            SaveVm.Outgoing o = src.service().beginSave(out, new MigrationContext(POSTCOPY), w -> {
                w.openReturnPath();
                w.ping(1);
                w.postcopyAdvise(4096, 4096);
            });
            assertFalse(o.iterate());
            o.completeNonPostcopiable();
            CommandWriter w = new CommandWriter(out);
            w.ping(2);
            ByteArrayOutputStream blob = new ByteArrayOutputStream();
            MigrationOutput bo = MigrationOutput.of(blob);
            CommandWriter bw = new CommandWriter(bo);
            bw.postcopyListen();
            o.writeDeviceSections(bo);
            bw.ping(3);
            bw.postcopyRun();
            w.packaged(blob.toByteArray());
            w.ping(4);
            while (!o.iteratePostcopy()) {
                // the guest runs on the destination now
            }
            assertThrows(IllegalStateException.class, o::complete);
            o.completePostcopy();
            o.close();
        }
        byte[] s = bytes.toByteArray();
        // the commands sit between the configuration section and the first START, as in QEMU
        assertArrayEquals(new byte[] { 8, 0, 1, 0, 0 }, java.util.Arrays.copyOfRange(s, 26, 31));
        assertEquals(1, s[31 + 9 + 21]);
        assertEquals(0, s[s.length - 1]); // EOF and no vmdesc in postcopy
        assertEquals(List.of("setup", "iterate", "complete"), src.blk().events);
        assertEquals("complete", src.ram().events.get(src.ram().events.size() - 1));

        Vm dst = vm((byte) 0);
        MigrationCommandsTest.Recorder r = new MigrationCommandsTest.Recorder();
        dst.service().load(MigrationInput.of(s), new MigrationContext(POSTCOPY), r);
        assertEquals(List.of("open-rp", "ping 1", "advise true 4096 4096", "ping 2", "listen", "ping 3", "run",
                "ping 4"), r.log);
        assertArrayEquals(new byte[] { 9, 9, 9 }, dst.dev().data());
        assertEquals(40, dst.ram().received.cardinality());
        assertEquals(10, dst.blk().received.cardinality());
    }
}
