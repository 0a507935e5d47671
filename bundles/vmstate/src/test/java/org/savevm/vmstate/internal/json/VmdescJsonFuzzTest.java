package org.savevm.vmstate.internal.json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.stream.MigrationInput;
import org.savevm.testing.fuzz.FuzzOracle;
import org.savevm.vmstate.internal.VMStateEngineComponent;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: VMState JSON descriptors. The input, as UTF-8 text, is one vmdesc {@code devices} entry: it
 * becomes a descriptor ({@link VMStateJsonComponent#fromVmdesc}), and a descriptor that is accepted then
 * decodes the input's own bytes as a device section body through the real engine (whatever the fields
 * say: lengths, arrays, subsections). The same text also goes through {@code fromDump}. Seeds in
 * {@code VmdescJsonFuzzTestInputs/vmdescDevice}: device entries of the QEMU 7.2 corpus' vmdesc trailers
 * (timer, serial, rtc, cpu, apic, ...). Oracle: {@link FuzzOracle}, refusals are IOExceptions.
 */
class VmdescJsonFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("VmdescJsonFuzzTest.vmdescDevice", IOException.class);
    private static final VMStateJsonComponent JSON = new VMStateJsonComponent();
    private static final VMStateEngineComponent ENGINE = new VMStateEngineComponent(Map.of());

    @AfterAll
    static void report() {
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "6s")
    void vmdescDevice(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        ORACLE.check(input.length, () -> {
            try {
                JSON.fromDump(text);
            } catch (IOException refused) {
                // the vmdesc path below must still run; the dump refusal is judged like any other
                if (FuzzOracle.programmingError(refused) != null) {
                    throw refused;
                }
            }
            VMStateDescription<GenericState> d = JSON.fromVmdesc(text);
            ENGINE.load(MigrationInput.of(input), d, new GenericState(), d.version());
        });
    }
}
