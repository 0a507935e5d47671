package org.savevm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.api.RegisteredSection;
import org.savevm.api.SaveVm;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.RamLayoutReplayHandler;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * Real QEMU 7.2 loads streams this savevm core writes: the device states of a QEMU stream are loaded,
 * then saved again by our framing (header, configuration, ram START/PART/END with the block list, FULL
 * sections, EOF, vmdesc), and fed to qemu-system-x86_64 with -incoming. Skipped without QEMU.
 */
class QemuAcceptsTest {
    @TempDir
    Path tmp;

    static boolean haveQemu() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "qemu-system-x86_64"))) {
                for (String d2 : System.getenv().getOrDefault("PATH", "").split(":")) {
                    if (Files.isExecutable(Path.of(d2, "python3"))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    Path script() throws IOException {
        for (String f : new String[] { "qemu-accepts.py", "qmp.py" }) {
            try (InputStream in = getClass().getResourceAsStream("/qemu/" + f)) {
                Files.copy(in, tmp.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return tmp.resolve("qemu-accepts.py");
    }

    /** Loads paused-16M into blob devices, then writes it again with our core under {@code settings}. */
    Path rewrite(MigrationSettings settings) throws IOException {
        return rewrite(settings, Map.of());
    }

    Path rewrite(MigrationSettings settings, Map<String, Object> machine) throws IOException {
        byte[] s = CorpusStreams.bytes("paused-16M.mig");
        SkippingRamHandler ram = new SkippingRamHandler();
        FakeRegistry loaded = CorpusStreams.registryFor(s, ram);
        new SaveVmService(loaded, new BlobEngine(), Map.of()).load(MigrationInput.of(s), MigrationSettings.DEFAULTS);

        FakeRegistry again = new FakeRegistry();
        again.add(new RamLayoutReplayHandler(ram.blocks), 2);
        int id = 3;
        for (RegisteredSection r : loaded.sections()) {
            if (r.handler() instanceof DeviceStateHandler<?>) {
                again.add(r.handler(), id++, r.idstr(), r.instanceId(), r.version());
            }
        }
        Path file = tmp.resolve("ours.mig");
        try (MigrationOutput out = new MigrationOutput(FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE))) {
            try (SaveVm.Outgoing o = new SaveVmService(again, new BlobEngine(), machine).beginSave(out, settings)) {
                while (!o.iterate()) {
                    // one round is enough: no pages
                }
                o.complete();
            }
        }
        return file;
    }

    String qemuAccepts(Path stream, String... qemuArgs) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("python3", script().toString(), stream.toString(), "-m", "16M"));
        cmd.addAll(List.of(qemuArgs));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "TIMEOUT";
        }
        return output;
    }

    @Test
    void qemuLoadsOurStream() throws Exception {
        assumeTrue(haveQemu(), "qemu-system-x86_64 or python3 not installed");
        assertEquals("COMPLETED", qemuAccepts(rewrite(MigrationSettings.DEFAULTS)));
    }

    @Test
    void qemuLoadsOurStreamWithoutConfigurationOnlyWithTheSameSwitch() throws Exception {
        assumeTrue(haveQemu(), "qemu-system-x86_64 or python3 not installed");
        Path file = rewrite(MigrationSettings.DEFAULTS.withParameter("send-configuration", 0));
        assertEquals("COMPLETED", qemuAccepts(file, "-global", "migration.send-configuration=off"));
        String refused = qemuAccepts(file);
        assertEquals(true, refused.startsWith("FAILED") && refused.contains("Configuration section missing"), refused);
    }

    @Test
    void qemuRefusesOurStreamForAnotherMachineTypeWithTheSameMessage() throws Exception {
        assumeTrue(haveQemu(), "qemu-system-x86_64 or python3 not installed");
        String out = qemuAccepts(rewrite(MigrationSettings.DEFAULTS, Map.of("type", "pc-i440fx-7.1")));
        assertEquals(true, out.startsWith("FAILED") && out.contains(
                "Machine type received is 'pc-i440fx-7.1' and local is 'pc-i440fx-7.2'"), out);
    }

    @Test
    void qemuLoadsOurFooterlessStreamOnlyWithTheSameSwitch() throws Exception {
        assumeTrue(haveQemu(), "qemu-system-x86_64 or python3 not installed");
        Path file = rewrite(MigrationSettings.DEFAULTS.withParameter("send-section-footer", 0));
        assertEquals("COMPLETED", qemuAccepts(file, "-global", "migration.send-section-footer=off"));
        String refused = qemuAccepts(file);
        assumeTrue(!refused.equals("TIMEOUT"));
        assertEquals(true, refused.startsWith("FAILED"), refused);
    }
}
