package org.savevm.block.internal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SaveVm;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.block.testing.TestDrive;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * The child JVM of {@link HeapBoundTest}, started with the heap bound as {@code -Xmx}: creates a sparse raw disk of
 * {@code args[1]} bytes with a random MiB in every eighth one, streams it through the real core's save and load
 * (block handler, no zero-blocks, so every chunk carries its MiB) over an in-process pipe into a second image, and
 * prints {@code heap-peak=BYTES equal=true|false}. An image that did not fit the bounded pools would end in an
 * OutOfMemoryError and a non-zero exit.
 */
public final class HeapBoundChild {
    private static final int MIB = 1 << 20;

    private HeapBoundChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long size = Long.parseLong(args[1]);
        ImageServiceComponent images = new ImageServiceComponent();
        try (BlockImage srcImage = images.create(dir.resolve("src.raw"), ImageFormat.RAW, size, Optional.empty(),
                Optional.empty());
                BlockImage dstImage = images.create(dir.resolve("dst.raw"), ImageFormat.RAW, size, Optional.empty(),
                        Optional.empty())) {
            fill(srcImage);
            TestDrive src = new TestDrive("disk0", srcImage);
            TestDrive dst = new TestDrive("disk0", dstImage);
            try (BlockVm a = new BlockVm(List.of(src), false); BlockVm b = new BlockVm(List.of(dst), false)) {
                System.gc();
                resetPeaks();
                stream(a, b);
                long peak = heapPeak();
                System.out.println("heap-peak=" + peak + " equal=" + equal(srcImage, dstImage));
            }
        }
    }

    private static void fill(BlockImage img) throws IOException {
        SplittableRandom rnd = new SplittableRandom(11);
        ByteBuffer b = ChunkBuffers.allocate();
        for (long at = 0; at + MIB <= img.size(); at += 8L * MIB) {
            b.clear();
            while (b.hasRemaining()) {
                b.putLong(rnd.nextLong());
            }
            img.write(at, b.flip());
        }
    }

    /** Save on this thread into the pipe, load from it on another, as two processes would over a socket. */
    private static void stream(BlockVm a, BlockVm b) throws Exception {
        Pipe pipe = Pipe.open();
        Exception[] loadError = new Exception[1];
        Thread loader = new Thread(() -> {
            try (MigrationInput in = new MigrationInput(pipe.source(), MIB)) {
                b.saveVm.load(in, MigrationSettings.DEFAULTS);
            } catch (Exception e) {
                loadError[0] = e;
            }
        }, "heap-bound-load");
        loader.start();
        MigrationContext ctx = new MigrationContext(BlockVm.block(false, false));
        try (MigrationOutput out = new MigrationOutput(pipe.sink(), 256 * 1024)) {
            try (SaveVm.Outgoing o = a.saveVm.beginSave(out, ctx, SaveVm.BeforeSetup.NONE)) {
                while (!o.iterate()) {
                    // bulk phase until done
                }
                o.complete();
            }
        }
        loader.join();
        if (loadError[0] != null) {
            throw loadError[0];
        }
    }

    private static boolean equal(BlockImage x, BlockImage y) throws IOException {
        ByteBuffer bx = ChunkBuffers.allocate();
        ByteBuffer by = ChunkBuffers.allocate();
        for (long at = 0; at < x.size(); at += MIB) {
            int n = (int) Math.min(MIB, x.size() - at);
            x.read(at, bx.clear().limit(n));
            y.read(at, by.clear().limit(n));
            if (bx.flip().mismatch(by.flip()) >= 0) {
                return false;
            }
        }
        return true;
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                p.resetPeakUsage();
            }
        }
    }

    /** Sum of the heap pools' peaks since the reset (garbage not yet collected included). */
    private static long heapPeak() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
