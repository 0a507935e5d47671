package org.savevm.analyze.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.block.internal.BlockSectionAnalyzer;
import org.savevm.core.SaveVmService;
import org.savevm.core.testing.BlobDevice;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.stream.MigrationInput;

/**
 * The larger corpus streams (too big to copy into the module) load when the shared corpus is on this
 * machine; skipped otherwise.
 */
class SharedCorpusTest {
    static final Path CORPUS = Path.of(System.getProperty("savevm.corpus", "/work/shared/qemu-corpus"));

    @ParameterizedTest
    @ValueSource(strings = { "ran-16M.mig", "dirty-xbzrle-16M.mig", "dirty-compress-16M.mig", "dirty-both-16M.mig",
            "block-4M.mig", "block-zero-4M.mig" })
    void loads(String name) throws IOException {
        Path file = CORPUS.resolve(name);
        assumeTrue(Files.isReadable(file), "shared corpus stream " + file + " not present");
        byte[] s = Files.readAllBytes(file);
        SkippingRamHandler ram = new SkippingRamHandler();
        // the block sections are read by the block bundle's analyzer, the one reader of that format
        AnalyzerAsLoadHandler block = new AnalyzerAsLoadHandler(new BlockSectionAnalyzer(), 1);
        FakeRegistry reg = CorpusStreams.registryFor(s, ram);
        reg.add(block, 101);
        new SaveVmService(reg, new BlobEngine(), Map.of()).load(MigrationInput.of(s), MigrationSettings.DEFAULTS);
        for (DeviceStateHandler<?> d : reg.devices()) {
            assertEquals(1, ((BlobDevice) d).commits, d.registration().fullIdstr());
        }
        assertTrue(ram.completed);
        assertTrue(ram.chunks >= 3, "ram sections: " + ram.chunks);
        if (name.startsWith("block")) {
            long chunks = 0;
            for (Object d : ((Map<?, ?>) block.result().get("drives")).values()) {
                chunks += (Long) ((Map<?, ?>) d).get("chunks") + (Long) ((Map<?, ?>) d).get("zero_chunks");
            }
            assertEquals(4, chunks);
            assertEquals(100L, block.result().get("last_progress"));
        }
    }
}
