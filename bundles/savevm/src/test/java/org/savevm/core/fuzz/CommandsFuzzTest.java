package org.savevm.core.fuzz;

import java.io.IOException;

import org.junit.jupiter.api.AfterAll;
import org.savevm.framing.walk.StreamCommand;
import org.savevm.stream.MigrationInput;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: QEMU_VM_COMMAND records (be16 id, be16 length, payload; the 0x08 byte already read) decoded one
 * after the other through {@link StreamCommand#read} until the input ends. Seeds in
 * {@code CommandsFuzzTestInputs/commands}: every command of QEMU 7.2's table with a valid payload (ping,
 * packaged, advise with and without page sizes, discard ranges, recv-bitmap). Oracle: {@link FuzzOracle}.
 */
class CommandsFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("CommandsFuzzTest.commands", IOException.class);

    @AfterAll
    static void report() {
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "6s")
    void commands(byte[] input) {
        ORACLE.check(input.length, () -> {
            MigrationInput in = MigrationInput.of(input);
            while (in.position() < input.length) {
                StreamCommand.read(in, in.position());
            }
        });
    }
}
