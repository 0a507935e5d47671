package org.savevm.block.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.savevm.api.MigrationSettings;
import org.savevm.api.analyze.AnalysisContext;
import org.savevm.api.analyze.AnalyzedSection;
import org.savevm.api.analyze.MemoryDumpSink;
import org.savevm.block.testing.Disks;
import org.savevm.block.testing.DrivesMachine;
import org.savevm.block.testing.RawFileImage;
import org.savevm.block.testing.TestDrive;
import org.savevm.core.SaveVmService;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.stream.MigrationInput;

/**
 * The block sections of real QEMU 7.2 streams (../shared/qemu-corpus, copied gzipped into the test resources:
 * a 4 MiB raw disk "d0" with a pattern at odd MiBs, migrated with block, and with block + zero-blocks) load
 * through the real core into a drive whose image then equals QEMU's source image ({@code block-4M.src.raw.gz}),
 * and analyze-stream's reader of this bundle counts their chunks.
 */
class QemuCorpusTest {
    @TempDir
    Path tmp;

    static byte[] gunzip(String resource) throws IOException {
        try (InputStream in = new GZIPInputStream(QemuCorpusTest.class.getResourceAsStream("/corpus/" + resource))) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @CsvSource({"block-4M.mig.gz, 4, 0", "block-zero-4M.mig.gz, 2, 2"})
    void qemusBlockSectionsLoadIntoAnImageEqualToQemusSource(String name, long dataChunks, long zeroChunks)
            throws Exception {
        byte[] stream = gunzip(name);
        byte[] source = gunzip("block-4M.src.raw.gz");
        // the destination held other data: zero chunks must clear it
        RawFileImage img = Disks.halfRandom(tmp.resolve("d0.raw"), source.length, source.length, 11);
        TestDrive d0 = new TestDrive("d0", img);
        try (SimulatedMachine ram = new SimulatedMachine("pc-i440fx-7.2", 16L << 20)) {
            DrivesMachine machine = new DrivesMachine(ram, List.of(d0));
            FakeRegistry reg = CorpusStreams.registryFor(stream, new SkippingRamHandler());
            BlockHandler block = new BlockHandler(machine);
            reg.add(block, 1);
            new SaveVmService(reg, new BlobEngine(), Map.of()).load(MigrationInput.of(stream),
                    MigrationSettings.DEFAULTS);
        }
        assertArrayEquals(source, Disks.content(img), "the loaded image equals QEMU's source image");

        Map<String, Object> r = AnalyzedStream.block(stream);
        Map<?, ?> d = (Map<?, ?>) ((Map<?, ?>) r.get("drives")).get("d0");
        assertEquals(dataChunks, d.get("chunks"));
        assertEquals(zeroChunks, d.get("zero_chunks"));
        assertEquals(100L, r.get("last_progress"));
    }

    /** The stream as analyze-stream reads it, through the analyzer service with a disk dump. */
    @ParameterizedTest
    @CsvSource({"block-4M.mig.gz", "block-zero-4M.mig.gz"})
    void theAnalyzerDumpsTheDiskAsQemuHadIt(String name) throws Exception {
        byte[] stream = gunzip(name);
        byte[] source = gunzip("block-4M.src.raw.gz");
        Path file = tmp.resolve("d0.raw");
        MemoryDumpSink sink = new MemoryDumpSink() {
            @Override
            public DumpFile create(String device, long length) throws IOException {
                assertEquals("d0", device);
                RawFileImage i = RawFileImage.create(file, source.length);
                return new DumpFile() {
                    @Override
                    public void write(long offset, byte[] data, int len) throws IOException {
                        i.write(offset, java.nio.ByteBuffer.wrap(data, 0, len));
                    }

                    @Override
                    public void read(long offset, byte[] data, int len) throws IOException {
                        i.read(offset, java.nio.ByteBuffer.wrap(data, 0, len));
                    }
                };
            }

            @Override
            public String fileName(String device) {
                return device + ".raw";
            }
        };
        var analysis = new BlockSectionAnalyzer().begin(new AnalysisContext(4096, List.of("block"), null, sink));
        AnalyzedStream.forEachBlockSection(stream, in -> analysis.section(
                new AnalyzedSection("PART", 0, 1, "block", 0, 1), in));
        assertArrayEquals(source, Files.readAllBytes(file));
        assertTrue(new BlockSectionAnalyzer().describe(analysis.result()).get(1).startsWith("  drive d0: "));
    }
}
