package org.savevm.core.fuzz;

import java.io.IOException;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.savevm.framing.walk.ConfigurationRecord;
import org.savevm.stream.MigrationInput;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: the configuration record (the body after QEMU_VM_CONFIGURATION: machine type, the
 * target-page-bits, capabilities and uuid subsections) fuzzed through {@link ConfigurationRecord#read},
 * with and without the known-capability check. Seeds in {@code ConfigurationFuzzTestInputs/configurationRecord}:
 * the records of the QEMU 7.2 corpus streams. Oracle: {@link FuzzOracle}, refusals are IOExceptions.
 */
class ConfigurationFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("ConfigurationFuzzTest.configurationRecord",
            IOException.class);

    @AfterAll
    static void report() {
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "6s")
    void configurationRecord(byte[] input) {
        ORACLE.check(input.length, () -> {
            ConfigurationRecord.read(MigrationInput.of(input), 8, null);
            ConfigurationRecord.read(MigrationInput.of(input), 8, Set.of("xbzrle", "compress", "postcopy-ram"));
        });
    }
}
