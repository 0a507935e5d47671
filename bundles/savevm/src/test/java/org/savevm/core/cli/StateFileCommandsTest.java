package org.savevm.core.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.core.SaveVmService;
import org.savevm.core.testing.BlobDevice;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.ChunkedLiveHandler;
import org.savevm.core.testing.FakeRegistry;

class StateFileCommandsTest {
    @TempDir
    Path tmp;

    final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    record Vm(FakeRegistry registry, ChunkedLiveHandler live, BlobDevice dev, SaveVmService service) {
    }

    static Vm vm(byte fill) {
        ChunkedLiveHandler live = new ChunkedLiveHandler("test-live", 20, 5);
        byte[] d = new byte[32];
        java.util.Arrays.fill(d, fill);
        BlobDevice dev = new BlobDevice("dev", 0, 1, d);
        FakeRegistry reg = new FakeRegistry().add(live, 1).add(dev, 2);
        return new Vm(reg, live, dev, new SaveVmService(reg, new BlobEngine(), Map.of()));
    }

    @Test
    void saveThenLoad() throws Exception {
        Vm src = vm((byte) 0x5a);
        String file = tmp.resolve("s.mig").toString();
        assertEquals(0, new SaveStateCommand(src.service()).run(List.of(file), out, err), errBytes.toString());
        assertTrue(outBytes.toString().startsWith("saved " + Files.size(Path.of(file)) + " bytes to " + file));
        Vm dst = vm((byte) 0);
        assertEquals(0, new LoadStateCommand(dst.service()).run(List.of(file), out, err), errBytes.toString());
        assertArrayEquals(src.dev().data(), dst.dev().data());
        assertEquals(20, dst.live().received.cardinality());
    }

    @Test
    void framingSwitchesMustMatch() throws Exception {
        Vm src = vm((byte) 1);
        String file = tmp.resolve("nf.mig").toString();
        assertEquals(0, new SaveStateCommand(src.service()).run(List.of("--no-section-footer", file), out, err));
        assertEquals(1, new LoadStateCommand(vm((byte) 0).service()).run(List.of(file), out, err));
        assertTrue(errBytes.toString().contains("Missing section footer for test-live"), errBytes.toString());
        Vm dst = vm((byte) 0);
        assertEquals(0, new LoadStateCommand(dst.service()).run(List.of("--no-section-footer", file), out, err));
        assertEquals(1, dst.dev().commits);
    }

    @Test
    void badArgumentsExit2() throws Exception {
        Vm v = vm((byte) 0);
        assertEquals(2, new SaveStateCommand(v.service()).run(List.of(), out, err));
        assertEquals(2, new LoadStateCommand(v.service()).run(List.of("--bogus", "f"), out, err));
        assertEquals(2, new LoadStateCommand(v.service()).run(List.of("--max-rounds", "3", "f"), out, err));
        assertTrue(errBytes.toString().contains("unknown option --bogus"));
    }

    @Test
    void missingFileExit1() throws Exception {
        assertEquals(1, new LoadStateCommand(vm((byte) 0).service()).run(List.of(tmp.resolve("none").toString()), out,
                err));
        assertTrue(errBytes.toString().startsWith("load-state: "));
    }
}
