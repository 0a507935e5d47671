package org.savevm.ram.internal;

import java.io.IOException;
import java.util.Arrays;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.stream.MigrationInput;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: the ram loader (the real handler on the real off-heap machine, QEMU's block layout of
 * pc-i440fx-7.2 with 16 MiB) fuzzed on "ram" section bodies: every record kind of the ram codec (block
 * list, zero, normal, XBZRLE, compressed pages, EOS, hooks). The oracle is the shared {@link FuzzOracle}: an
 * input may only be refused with an IOException (the project's MigrationStreamException), no programming
 * error in its cause chain, 5 s and a heap budget per input. The first input byte picks the settings (bit 0: capability
 * compress). In the normal build Jazzer runs only the seeds in {@code RamLoadFuzzTestInputs/ramSectionBody}
 * (a corpus block list, every record kind, and each crash ever found: the bit-63 address); with
 * {@code JAZZER_FUZZ=1} it fuzzes.
 */
class RamLoadFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("RamLoadFuzzTest.ramSectionBody", IOException.class);
    private static SimulatedMachine machine;
    /**
     * One handler for all inputs, as in the running bundle (it holds no migration state; every input gets a
     * session of its own). A handler per input started the handler's JIT warm-up thread each time, ~100 MB of
     * zero checks: 76 inputs/s instead of thousands.
     */
    private static RamHandler handler;

    @BeforeAll
    static void start() {
        machine = new SimulatedMachine("pc-i440fx-7.2", 16L << 20);
        handler = new RamHandler(machine);
    }

    @AfterAll
    static void stop() {
        machine.close();
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "8s")
    void ramSectionBody(byte[] input) {
        if (input.length == 0) {
            return;
        }
        ORACLE.check(input.length, () -> {
            MigrationSettings settings = (input[0] & 1) != 0
                    ? MigrationSettings.DEFAULTS.withCapability("compress", true) : MigrationSettings.DEFAULTS;
            byte[] body = Arrays.copyOfRange(input, 1, input.length);
            try (LiveStateHandler.LoadSession load = handler.beginLoad(new MigrationContext(settings))) {
                load.load(MigrationInput.of(body), 4);
            }
        });
    }
}
