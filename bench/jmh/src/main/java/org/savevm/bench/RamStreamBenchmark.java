package org.savevm.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
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
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * The "ram" section of a whole first pass, saved into a channel that discards and loaded from memory,
 * for never-written, written-zero and random guest RAM: the handler's own cost per GiB, without sockets.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class RamStreamBenchmark {
    @Param({"256"})
    public int ramMiB;

    @Param({"zero", "written-zero", "random"})
    public String fill;

    private SimulatedMachine source;
    private SimulatedMachine destination;
    private RamHandler sourceRam;
    private RamHandler destinationRam;
    private ByteBuffer stream;

    private static final class BufferChannel implements ReadableByteChannel {
        final ByteBuffer src;

        BufferChannel(ByteBuffer src) {
            this.src = src;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (!src.hasRemaining()) {
                return -1;
            }
            int n = Math.min(dst.remaining(), src.remaining());
            ByteBuffer s = src.slice(src.position(), n);
            dst.put(s);
            src.position(src.position() + n);
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    @Setup(Level.Trial)
    public void setup() throws IOException {
        long size = (long) ramMiB << 20;
        source = new SimulatedMachine("pc-i440fx-7.2", size);
        destination = new SimulatedMachine("pc-i440fx-7.2", size);
        if (fill.equals("written-zero")) {
            // zeros that were written: the save has to read them (never-written pages it does not)
            RamBlock ram = source.ramBlock("pc.ram").orElseThrow();
            ram.fill(0, ram.usedLength(), (byte) 0);
        }
        if (fill.equals("random")) {
            RamBlock ram = source.ramBlock("pc.ram").orElseThrow();
            Random rnd = new Random(1);
            byte[] page = new byte[RamBlock.TARGET_PAGE_SIZE];
            for (long p = 0; p < ram.pages(); p++) {
                rnd.nextBytes(page);
                ram.write(p * RamBlock.TARGET_PAGE_SIZE, page, 0, RamBlock.TARGET_PAGE_SIZE);
            }
        }
        sourceRam = new RamHandler(source);
        destinationRam = new RamHandler(destination);
        stream = ByteBuffer.allocateDirect((int) Math.min(Integer.MAX_VALUE, size + size / 64 + (16 << 20)));
        save(new SinkChannel(stream));
        stream.flip();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        source.close();
        destination.close();
    }

    private long save(SinkChannel ch) throws IOException {
        MigrationOutput out = new MigrationOutput(ch);
        try (LiveStateHandler.SaveSession save = sourceRam.beginSave(new MigrationContext(MigrationSettings.DEFAULTS))) {
            save.setup(out);
            while (!save.iterate(out)) {
                // until the pass is done
            }
            save.completePrecopy(out);
        }
        out.flush();
        return ch.bytes;
    }

    /** Setup record, then every iteration's records: each ends at an EOS, as the sections do. */
    @Benchmark
    public long save() throws IOException {
        return save(new SinkChannel(null));
    }

    @Benchmark
    public long load() throws IOException {
        MigrationInput in = new MigrationInput(new BufferChannel(stream.duplicate()));
        try (LiveStateHandler.LoadSession load = destinationRam.beginLoad(new MigrationContext(MigrationSettings.DEFAULTS))) {
            while (!in.atEnd()) {
                load.load(in, 4);
            }
            load.complete();
        }
        return in.position();
    }
}
