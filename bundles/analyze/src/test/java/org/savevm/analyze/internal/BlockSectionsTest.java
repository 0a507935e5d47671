package org.savevm.analyze.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * analyze-stream on QEMU 7.2's block streams (../shared/qemu-corpus block-4M and block-zero-4M, gzipped here): the
 * block bundle's analyzer service lists the chunks per device as the analyzer it replaced did, and
 * {@code --dump-disks} writes the disk, which equals QEMU's source image ({@code block-4M.src.raw}).
 */
class BlockSectionsTest {
    @TempDir
    Path tmp;

    private Path gunzip(String name) throws IOException {
        Path p = tmp.resolve(name.replace(".gz", ""));
        try (InputStream in = new GZIPInputStream(getClass().getResourceAsStream("/corpus/" + name))) {
            Files.write(p, in.readAllBytes());
        }
        return p;
    }

    @ParameterizedTest
    @CsvSource({"block-4M.mig.gz, 4, 0", "block-zero-4M.mig.gz, 2, 2"})
    void listsTheChunksPerDeviceAndDumpsTheDisk(String name, long chunks, long zeroChunks) throws Exception {
        Path stream = gunzip(name);
        byte[] source;
        try (InputStream in = new GZIPInputStream(getClass().getResourceAsStream("/corpus/block-4M.src.raw.gz"))) {
            source = in.readAllBytes();
        }
        AnalyzeStreamCommandTest.Run text = AnalyzeStreamCommandTest.run(stream.toString());
        assertEquals(0, text.status(), text.err());
        assertTrue(text.out().contains("block:\n  drive d0: " + chunks + " chunks with data, " + zeroChunks
                + " zero chunks\n"), text.out());

        Path dir = tmp.resolve("disks");
        AnalyzeStreamCommandTest.Run r = AnalyzeStreamCommandTest.run("--json", "--dump-disks", dir.toString(),
                stream.toString());
        assertEquals(0, r.status(), r.err());
        JsonNode d0 = r.json().path("block").path("drives").path("d0");
        assertEquals(chunks, d0.path("chunks").asLong());
        assertEquals(zeroChunks, d0.path("zero_chunks").asLong());
        assertEquals(4L << 20, d0.path("end").asLong());
        assertEquals("d0.raw", d0.path("dump_file").asText());
        // the runs in stream order cover every chunk of the 4 MiB disk once, zero runs being the zero chunks
        java.util.BitSet seen = new java.util.BitSet();
        long zeroInRuns = 0;
        for (JsonNode run : d0.path("runs")) {
            for (long i = 0; i < run.path("chunks").asLong(); i++) {
                int chunk = (int) (run.path("offset").asLong() / (1 << 20) + i);
                assertTrue(!seen.get(chunk), "chunk " + chunk + " listed twice: " + d0);
                seen.set(chunk);
            }
            zeroInRuns += run.path("zero").asBoolean() ? run.path("chunks").asLong() : 0;
            assertTrue(run.path("at").asLong() > 0);
        }
        assertEquals(4, seen.cardinality(), d0.toString());
        assertEquals(zeroChunks, zeroInRuns, d0.toString());
        assertTrue(text.out().contains("in stream order ("), text.out());
        assertEquals(100, r.json().path("block").path("last_progress").asLong());
        assertArrayEquals(source, Files.readAllBytes(dir.resolve("d0.raw")), "the dumped disk is QEMU's source image");

        AnalyzeStreamCommandTest.Run small = AnalyzeStreamCommandTest.run("--dump-disks", tmp.resolve("d2").toString(),
                "--max-size", "2M", stream.toString());
        assertEquals(1, small.status());
        assertTrue(small.err().contains("disk 'd0': data up to 0x") && small.err().contains("exceeds the dump limit"
                + " of 0x200000 bytes (--max-size)"), small.err());
    }
}
