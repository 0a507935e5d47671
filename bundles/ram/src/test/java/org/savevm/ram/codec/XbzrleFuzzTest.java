package org.savevm.ram.codec;

import java.io.IOException;

import org.junit.jupiter.api.AfterAll;
import org.savevm.stream.MigrationInput;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: an XBZRLE page record's payload (encoding byte, be16 length, the encoded runs) through
 * {@link XbzrleDecoder#readLength} and {@link XbzrleDecoder#decode} onto a 4 KiB page, as the ram loader
 * does. Besides the shared oracle: a decode never reports more than the page, and a failure index lies
 * inside the encoded data. Seeds in {@code XbzrleFuzzTestInputs/xbzrlePayload}: XBZRLE payloads of the QEMU
 * 7.2 corpus stream dirty-xbzrle-16M.
 */
class XbzrleFuzzTest {
    private static final int PAGE = 4096;
    private static final FuzzOracle ORACLE = new FuzzOracle("XbzrleFuzzTest.xbzrlePayload", IOException.class);
    private final byte[] page = new byte[PAGE];

    @AfterAll
    static void report() {
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "6s")
    void xbzrlePayload(byte[] input) {
        ORACLE.check(input.length, () -> {
            MigrationInput in = MigrationInput.of(input);
            int len = XbzrleDecoder.readLength(in, 0, PAGE);
            byte[] encoded = in.readBytes(len);
            int r = XbzrleDecoder.decode(encoded, len, page, PAGE);
            if (r > PAGE) {
                throw new AssertionError("decoded " + r + " bytes onto a page of " + PAGE);
            }
            if (r < 0 && (XbzrleDecoder.failedAt(r) < 0 || XbzrleDecoder.failedAt(r) > len)) {
                throw new AssertionError("failure index " + XbzrleDecoder.failedAt(r) + " outside 0.." + len);
            }
        });
    }
}
