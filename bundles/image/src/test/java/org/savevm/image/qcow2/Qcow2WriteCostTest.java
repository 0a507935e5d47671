package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What block migration's 1 MiB whole-cluster chunks cost, counted in system calls rather than timed: one data write,
 * one refcount-block write, one L2 write, no read; a zero chunk on a fresh image costs nothing.
 */
class Qcow2WriteCostTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void wholeClusterMegabyteWritesAreThreeWritesAndNoRead() throws Exception {
        Path f = dir.resolve("cost.qcow2");
        Qcow2Create.create(f, 1L << 30, Optional.empty(), Optional.empty());
        CrashingChannel channel = new CrashingChannel(
                FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE), Long.MAX_VALUE);
        long sizeBefore = Files.size(f);
        try (Qcow2Image img = Qcow2Image.open(f, false, (b, fmt) -> null, channel)) {
            img.writeZeroes(0, 64L * MIB); // fresh image, no backing file: already zeros
            assertEquals(0, channel.writes(), "zero chunks on a fresh image write nothing");
            ByteBuffer chunk = ByteBuffer.allocate(MIB);
            img.write(0, chunk.clear()); // the first chunk also allocates the L2 table and loads the refcounts
            for (int i = 1; i <= 8; i++) {
                List<Long> positions = channel.positions();
                int writesBefore = positions.size();
                long readsBefore = channel.reads();
                img.write((long) i * MIB, chunk.clear());
                assertEquals(3, positions.size() - writesBefore, "writes for chunk " + i);
                assertEquals(0, channel.reads() - readsBefore, "reads for chunk " + i);
            }
        }
        assertTrue(Files.size(f) > sizeBefore);
    }
}
