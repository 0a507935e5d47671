package org.savevm.block.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.analyze.AnalysisContext;
import org.savevm.api.analyze.AnalyzedSection;
import org.savevm.api.analyze.SectionAnalysis;
import org.savevm.block.codec.BlockFlags;
import org.savevm.block.codec.BlockRecordWriter;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/** analyze-stream's listing of block chunks: runs in stream order, and a bound on what it keeps. */
class BlockSectionAnalyzerTest {
    private static Map<String, Object> analyze(byte[] body) throws Exception {
        BlockSectionAnalyzer analyzer = new BlockSectionAnalyzer();
        SectionAnalysis a = analyzer.begin(new AnalysisContext(4096, List.of(), null));
        a.section(new AnalyzedSection("PART", 0, 1, "block", 0, 1), MigrationInput.of(body));
        return a.result();
    }

    /** Zero records of {@code device} at the given chunk indexes, then EOS. */
    private static byte[] zeroRecords(String device, long... chunks) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bytes);
        byte[] name = BlockRecordWriter.checkName(device);
        for (long c : chunks) {
            BlockRecordWriter.writeChunk(out, name, c * BlockFlags.CHUNK_SIZE, null, true);
        }
        BlockRecordWriter.writeEos(out);
        out.flush();
        return bytes.toByteArray();
    }

    @Test
    void consecutiveChunksOfOneKindMakeOneRun() throws Exception {
        Map<String, Object> r = analyze(zeroRecords("disk0", 0, 1, 2, 7, 8, 3));
        Map<?, ?> d = (Map<?, ?>) ((Map<?, ?>) r.get("drives")).get("disk0");
        List<?> runs = (List<?>) d.get("runs");
        assertEquals(3, runs.size(), runs.toString());
        assertEquals(0L, ((Map<?, ?>) runs.get(0)).get("offset"));
        assertEquals(3L, ((Map<?, ?>) runs.get(0)).get("chunks"));
        assertEquals(7L * BlockFlags.CHUNK_SIZE, ((Map<?, ?>) runs.get(1)).get("offset"));
        assertEquals(2L, ((Map<?, ?>) runs.get(1)).get("chunks"));
        assertEquals(3L * BlockFlags.CHUNK_SIZE, ((Map<?, ?>) runs.get(2)).get("offset"));
        List<String> text = new BlockSectionAnalyzer().describe(r);
        assertTrue(text.contains("      zero 0x0-0x2fffff (3 chunks), from byte 0"), text.toString());
    }

    /** A stream that never repeats a neighbour: the runs stop at the bound and the rest is only counted. */
    @Test
    void scatteredRecordsAreListedUpToTheBoundThenCounted() throws Exception {
        int n = BlockSectionAnalyzer.MAX_RUNS + 500;
        long[] chunks = new long[n];
        for (int i = 0; i < n; i++) {
            chunks[i] = 2L * i;
        }
        Map<String, Object> r = analyze(zeroRecords("d", chunks));
        Map<?, ?> d = (Map<?, ?>) ((Map<?, ?>) r.get("drives")).get("d");
        assertEquals(BlockSectionAnalyzer.MAX_RUNS, ((List<?>) d.get("runs")).size());
        assertEquals(500L, d.get("records_not_listed"));
        assertEquals((long) n, d.get("zero_chunks"));
        List<String> text = new BlockSectionAnalyzer().describe(r);
        assertTrue(text.stream().anyMatch(l -> l.contains("more runs (--json lists them)")), text.toString());
        assertTrue(text.stream().anyMatch(l -> l.contains("500 later records counted, not listed")), text.toString());
    }
}
