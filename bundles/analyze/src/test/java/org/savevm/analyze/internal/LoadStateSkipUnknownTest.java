package org.savevm.analyze.internal;

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
import org.savevm.core.cli.LoadStateCommand;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.vmstate.internal.VMStateEngineComponent;
import org.savevm.vmstate.internal.json.VMStateJsonComponent;

/**
 * {@code load-state --skip-unknown} on QEMU 7.2's paused-16M stream with only a ram handler registered: every
 * device section (cpu, apic, the PCI devices, ...) is read past through the file's vmdesc trailer by this bundle's
 * VmdescForeignSections and named; without the option the load fails at the first, as QEMU's would.
 */
class LoadStateSkipUnknownTest {
    @TempDir
    Path tmp;

    private record Run(int status, String out, String err) {
    }

    private static Run run(LoadStateCommand c, String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = c.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static LoadStateCommand command(boolean withReaders) {
        FakeRegistry reg = new FakeRegistry();
        reg.add(new SkippingRamHandler(), 100);
        LoadStateCommand c = new LoadStateCommand(new SaveVmService(reg, new VMStateEngineComponent(Map.of()), Map.of()));
        if (withReaders) {
            c.foreignSectionsForTest(new VmdescForeignSections(new VMStateJsonComponent(),
                    new VMStateEngineComponent(Map.of())));
        }
        return c;
    }

    @Test
    void devicesWithoutHandlerAreReadPastAndNamed() throws Exception {
        Path stream = tmp.resolve("paused-16M.mig");
        try (var in = getClass().getResourceAsStream("/corpus/paused-16M.mig")) {
            Files.write(stream, in.readAllBytes());
        }
        Run plain = run(command(true), stream.toString());
        assertEquals(1, plain.status(), plain.out());
        assertTrue(plain.err().contains("Unknown savevm section or instance"), plain.err());

        Run skipping = run(command(true), "--skip-unknown", stream.toString());
        assertEquals(0, skipping.status(), skipping.err());
        assertTrue(skipping.out().startsWith("loaded " + stream), skipping.out());
        for (String s : new String[] {"'cpu' instance 0", "'apic' instance 0", "'0000:00:01.0/PIIX3' instance 0",
            "'timer' instance 0"}) {
            assertTrue(skipping.err().contains(s), s + " not named: " + skipping.err());
        }
        assertTrue(!skipping.err().contains("'ram'"), "ram was loaded: " + skipping.err());

        Run noAnalyzer = run(command(false), "--skip-unknown", stream.toString());
        assertEquals(1, noAnalyzer.status());
        assertTrue(noAnalyzer.err().contains("needs the analyze bundle"), noAnalyzer.err());
    }
}
