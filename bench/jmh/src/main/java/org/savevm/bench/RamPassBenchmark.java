package org.savevm.bench;

import java.io.IOException;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.RamBlock;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.internal.RamHandler;
import org.savevm.stream.MigrationOutput;

/**
 * One whole first pass of the "ram" handler (setup, iterate until done, complete) over a machine whose
 * RAM is half zero pages, half random pages, into a channel that discards: the handler's own cost.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class RamPassBenchmark {
    @Param({"256"})
    public int ramMiB;

    @Param({"none", "compress"})
    public String capability;

    private SimulatedMachine machine;
    private RamHandler handler;

    @Setup(Level.Trial)
    public void setup() {
        machine = new SimulatedMachine("pc-i440fx-7.2", (long) ramMiB << 20);
        RamBlock ram = machine.ramBlock("pc.ram").orElseThrow();
        Random rnd = new Random(1);
        byte[] page = new byte[RamBlock.TARGET_PAGE_SIZE];
        for (long p = 0; p < ram.pages(); p += 2) {
            rnd.nextBytes(page);
            ram.write(p * RamBlock.TARGET_PAGE_SIZE, page, 0, RamBlock.TARGET_PAGE_SIZE);
        }
        handler = new RamHandler(machine);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        machine.close();
    }

    @Benchmark
    public long fullPass() throws IOException {
        MigrationSettings s = capability.equals("compress")
                ? MigrationSettings.DEFAULTS.withCapability("compress", true).withParameter("compress-threads", 2)
                : MigrationSettings.DEFAULTS;
        SinkChannel ch = new SinkChannel(null);
        MigrationOutput out = new MigrationOutput(ch);
        try (LiveStateHandler.SaveSession save = handler.beginSave(new MigrationContext(s))) {
            save.setup(out);
            while (!save.iterate(out)) {
                // until the pass is done
            }
            save.completePrecopy(out);
        }
        out.flush();
        return ch.bytes;
    }
}
