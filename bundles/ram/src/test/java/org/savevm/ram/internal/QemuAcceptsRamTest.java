package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.stream.MigrationOutput;

/**
 * Real QEMU 7.2 loads a stream whose only section is our "ram" (framed here by hand: header,
 * configuration, START/PART/END with footers, EOF, an empty vmdesc), and its guest memory then equals
 * ours: checked with QMP pmemsave over pc.ram above 1 MiB (below that, ROM and VGA windows overlay it).
 * Skipped when qemu-system-x86_64 is not installed.
 */
class QemuAcceptsRamTest {
    private static final long RAM = 16L << 20;

    static Stream<Arguments> settings() {
        MigrationSettings none = MigrationSettings.DEFAULTS;
        return Stream.of(Arguments.of("plain", none),
                Arguments.of("xbzrle", none.withCapability("xbzrle", true)),
                Arguments.of("compress", none.withCapability("compress", true).withParameter("compress-level", 6)),
                Arguments.of("xbzrle+compress", none.withCapability("xbzrle", true).withCapability("compress", true)));
    }

    /** Section framing as QEMU writes it, so that only our ram handler's bytes are under test. */
    private static byte[] stream(SimulatedMachine m, MigrationSettings settings) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bos);
        Random rnd = new Random(5);
        RamMigrationStats stats = RamOnlyStream.write(out, m, settings, 6, () -> RoundTripTest.mutate(m, rnd, 200));
        assertEquals(settings.capability("xbzrle"), stats.xbzrlePages() > 0, "XBZRLE pages in the stream");
        assertEquals(settings.capability("compress"), stats.compressedPages() > 0, "compressed pages in the stream");
        return bos.toByteArray();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("settings")
    void qemuLoadsOurRamAndHoldsTheSameBytes(String name, MigrationSettings settings, @TempDir Path dir)
            throws Exception {
        Assumptions.assumeTrue(QemuProcess.installed(), QemuProcess.QEMU + " is not installed: skipping the real-QEMU check");
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", RAM)) {
            RoundTripTest.mutate(m, new Random(name.hashCode()), 3000);
            Path file = dir.resolve("ram.mig");
            Files.write(file, stream(m, settings));
            Path dump = dir.resolve("mem.bin");

            List<String> caps = new ArrayList<>();
            for (String c : new String[] {"xbzrle", "compress"}) {
                if (settings.capability(c)) {
                    caps.add("{\"capability\": \"" + c + "\", \"state\": true}");
                }
            }
            try (QemuProcess qemu = QemuProcess.destination(dir, "16M")) {
                if (!caps.isEmpty()) {
                    qemu.command("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": ["
                            + String.join(", ", caps) + "]}}");
                }
                qemu.command("{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"exec:cat " + file
                        + "\"}}");
                qemu.awaitCompleted();
                qemu.assertPcRamEquals(m.ramBlock("pc.ram").orElseThrow(), RAM, dump);
            }
        }
    }
}
