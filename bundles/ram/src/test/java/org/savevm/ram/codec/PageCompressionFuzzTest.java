package org.savevm.ram.codec;

import java.io.IOException;
import java.util.zip.DataFormatException;

import org.junit.jupiter.api.AfterAll;
import org.savevm.stream.MigrationInput;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: a COMPRESS_PAGE payload (be32 length, zlib data) through {@link PageCompression#readLength}
 * (limit: compressBound of the page, as QEMU) and {@link PageCompression#decompress} into a 4 KiB page.
 * Refusals: IOException (the length) and DataFormatException (the zlib data); a decompression never
 * yields more than the page. Seeds in {@code PageCompressionFuzzTestInputs/compressedPage}: compressed
 * pages of the QEMU 7.2 corpus stream dirty-compress-16M.
 */
class PageCompressionFuzzTest {
    private static final int PAGE = 4096;
    private static final FuzzOracle ORACLE = new FuzzOracle("PageCompressionFuzzTest.compressedPage",
            IOException.class, DataFormatException.class);
    private static final PageCompression ZLIB = new PageCompression(1);
    private final byte[] page = new byte[PAGE];

    @AfterAll
    static void report() {
        ZLIB.close();
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "6s")
    void compressedPage(byte[] input) {
        ORACLE.check(input.length, () -> {
            MigrationInput in = MigrationInput.of(input);
            int len = PageCompression.readLength(in, 0, PageCompression.compressBound(PAGE));
            byte[] data = in.readBytes(len);
            int n = ZLIB.decompress(data, len, page, PAGE);
            if (n > PAGE) {
                throw new AssertionError("decompressed " + n + " bytes into a page of " + PAGE);
            }
        });
    }
}
