package org.savevm.core.loadvm;

import java.io.IOException;

import org.junit.jupiter.api.AfterAll;
import org.savevm.stream.MigrationInput;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: the loader's streamed reader of the vmdesc trailer's JSON ({@link VmdescSections#read}: device
 * names and instances, everything else skipped) on any bytes. Besides the shared oracle: it consumes exactly
 * the trailer's length, whatever the JSON. Seeds in {@code VmdescSectionsFuzzTestInputs/vmdescTrailer}: the
 * trailers of the QEMU 7.2 corpus streams paused-16M and serial-16M.
 */
class VmdescSectionsFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("VmdescSectionsFuzzTest.vmdescTrailer",
            IOException.class);

    @AfterAll
    static void report() {
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "6s")
    void vmdescTrailer(byte[] input) {
        ORACLE.check(input.length, () -> {
            MigrationInput in = MigrationInput.of(input);
            try {
                VmdescSections.read(in, input.length);
            } finally {
                if (in.position() != input.length) {
                    throw new AssertionError("consumed " + in.position() + " of a trailer of " + input.length);
                }
            }
        });
    }
}
