package org.savevm.analyze.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.savevm.block.internal.BlockSectionAnalyzer;
import org.savevm.ram.internal.RamSectionAnalyzer;
import org.savevm.testing.fuzz.FuzzOracle;
import org.savevm.vmstate.internal.VMStateEngineComponent;
import org.savevm.vmstate.internal.json.VMStateJsonComponent;

import com.code_intelligence.jazzer.junit.FuzzTest;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * issue 13: whole stream files through analyze-stream's {@link StreamAnalyzer} with the ram and block section
 * analyzers, device sections decoded with the stream's own vmdesc by the real VMState engine, {@code --dump-memory}
 * and {@code --dump-disks} into scratch directories (limit 32 MiB per RAM block or disk), then the text and the
 * JSON output rendered. Besides the shared oracle: the dump directories never hold more than the limit per file.
 * Seeds in {@code AnalyzeStreamFuzzTestInputs/streamFile}: the QEMU 7.2 corpus streams paused-16M, nofooter-16M
 * and noconfig-16M, and two block streams (START/PART/END "block" sections of zero and data chunks for two
 * drives, progress and EOS records).
 */
class AnalyzeStreamFuzzTest {
    private static final long MAX_DUMP = 32L << 20;
    private static final FuzzOracle ORACLE = new FuzzOracle("AnalyzeStreamFuzzTest.streamFile", IOException.class);
    private static final PrintStream NOWHERE = new PrintStream(OutputStream.nullOutputStream());
    private static Path scratch;
    private static Path file;
    private static Path dumps;
    private static Path diskDumps;
    private static StreamAnalyzer analyzer;

    @BeforeAll
    static void start() throws IOException {
        // every input is written to a file and dumped into files that are deleted again: on a disk mounted with
        // "discard" (this project's build machine) each truncate and unlink trims, ~20 ms per input; tmpfs is
        // what the scratch files need (sparse files, fast unlink). Falls back to the default temp directory.
        Path shm = Path.of("/dev/shm");
        scratch = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "analyze-fuzz")
                : Files.createTempDirectory("analyze-fuzz");
        file = scratch.resolve("input.mig");
        dumps = Files.createDirectories(scratch.resolve("dump"));
        diskDumps = Files.createDirectories(scratch.resolve("disks"));
        analyzer = new StreamAnalyzer(new VMStateJsonComponent(), new VMStateEngineComponent(Map.of()),
                List.of(new RamSectionAnalyzer(), new BlockSectionAnalyzer()), dumps, diskDumps, MAX_DUMP);
    }

    @AfterAll
    static void stop() throws IOException {
        clear(dumps);
        clear(diskDumps);
        Files.deleteIfExists(file);
        Files.deleteIfExists(dumps);
        Files.deleteIfExists(diskDumps);
        Files.deleteIfExists(scratch);
        ORACLE.report(System.out);
    }

    private static void clear(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.size(f) > MAX_DUMP) {
                    throw new AssertionError(f + " holds " + Files.size(f) + " bytes, beyond --max-size " + MAX_DUMP);
                }
                Files.delete(f);
            }
        }
    }

    @FuzzTest(maxDuration = "10s")
    void streamFile(byte[] input) throws IOException {
        Files.write(file, input);
        try {
            ORACLE.check(input.length, () -> {
                var result = analyzer.analyze(file);
                AnalysisText.print(result, analyzer.described(), NOWHERE);
                new ObjectMapper().writeValueAsString(result);
            });
        } finally {
            clear(dumps);
            clear(diskDumps);
        }
    }
}
