package org.savevm.migration.returnpath;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;

import org.junit.jupiter.api.AfterAll;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: return-path messages (destination to source: be16 type, be16 length, payload) through the
 * source's {@link ReturnPathReader} loop up to SHUT, with postcopy page requests accepted when the first
 * input byte's bit 0 is set. Refusals are IOExceptions. Seeds in {@code ReturnPathFuzzTestInputs/messages}:
 * PONG, REQ_PAGES_ID, REQ_PAGES and SHUT as QEMU 7.2's destination sends them.
 */
class ReturnPathFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("ReturnPathFuzzTest.messages", IOException.class);

    @AfterAll
    static void report() {
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "6s")
    void messages(byte[] input) {
        if (input.length == 0) {
            return;
        }
        ORACLE.check(input.length, () -> {
            ReturnPathReader reader = new ReturnPathReader(
                    Channels.newChannel(new ByteArrayInputStream(input, 1, input.length - 1)));
            if ((input[0] & 1) != 0) {
                reader.acceptPageRequests((block, start, length) -> {
                    if (block == null) {
                        throw new AssertionError("page request without a block");
                    }
                });
            }
            reader.readUntilShut();
        });
    }
}
