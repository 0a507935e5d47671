package org.savevm.block.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.machine.internal.MachineDrive;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.stream.MigrationInput;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The "block" section's load side (issues 10 and 13) fuzzed on section bodies: the real handler's
 * {@link BlockLoadSession} (record codec, device lookup, bounds, its writer threads) into a machine with two real
 * drives, {@code disk0} a 4 MiB raw image and {@code disk1} a qcow2 image of 3 MiB + 512 bytes (a short last
 * chunk). The oracle is the shared {@link FuzzOracle}: an input may only be refused with an IOException (the
 * project's MigrationStreamException, naming the byte offset), never with a programming error in the cause chain
 * (also one thrown on a writer thread), within 5 s and the heap budget. Seeds in
 * {@code BlockLoadFuzzTestInputs/sectionBody}: data, zero and short-last chunks, progress and EOS records as
 * QEMU 7.2's blk_send writes them.
 */
class BlockLoadFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("BlockLoadFuzzTest.sectionBody", IOException.class);
    /** JUnit's, deleted after the class. */
    @TempDir
    static Path dir;
    private static SimulatedMachine machine;
    private static BlockHandler handler;

    @BeforeAll
    static void start() throws IOException {
        ImageServiceComponent images = new ImageServiceComponent();
        MachineDrive disk0 = new MachineDrive("disk0", images.create(dir.resolve("disk0.raw"), ImageFormat.RAW,
                4L << 20, Optional.empty(), Optional.empty()), false);
        MachineDrive disk1 = new MachineDrive("disk1", images.create(dir.resolve("disk1.qcow2"), ImageFormat.QCOW2,
                (3L << 20) + 512, Optional.empty(), Optional.empty()), false);
        machine = new SimulatedMachine("pc-i440fx-7.2", 16L << 20, WorkloadSpec.DEFAULT, List.of(disk0, disk1), 0);
        machine.workload().pause();
        handler = new BlockHandler(machine);
    }

    @AfterAll
    static void stop() {
        machine.close();
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "8s")
    void sectionBody(byte[] input) {
        ORACLE.check(input.length, () -> {
            MigrationContext context = new MigrationContext(MigrationSettings.DEFAULTS);
            try (LiveStateHandler.LoadSession load = handler.beginLoad(context)) {
                load.load(MigrationInput.of(input), 1);
                load.complete(); // the writes' outcome, as the loader asks for it at the end of the stream
            }
        });
    }
}
