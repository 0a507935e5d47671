package org.savevm.block.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

class BlockRecordCodecTest {
    private static final byte[] DISK0 = "disk0".getBytes(StandardCharsets.US_ASCII);

    private static byte[] write(java.util.function.Consumer<MigrationOutput> w) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(b)) {
            w.accept(out);
        }
        return b.toByteArray();
    }

    @Test
    void chunkProgressAndEosHaveQemusBytes() throws IOException {
        byte[] data = new byte[BlockFlags.CHUNK_SIZE];
        new Random(1).nextBytes(data);
        byte[] s = write(out -> {
            BlockRecordWriter.writeChunk(out, DISK0, 3L << 20, ByteBuffer.wrap(data), false);
            BlockRecordWriter.writeChunk(out, DISK0, 5L << 20, null, true);
            BlockRecordWriter.writeProgress(out, 42);
            BlockRecordWriter.writeEos(out);
        });
        // be64 (sector << 9 | DEVICE_BLOCK): 3 MiB = sector 6144 -> 0x300000 | 1; counted name; 1 MiB
        ByteBuffer b = ByteBuffer.wrap(s);
        assertEquals((3L << 20) | 0x01, b.getLong());
        assertEquals(5, b.get());
        byte[] name = new byte[5];
        b.get(name);
        assertArrayEquals(DISK0, name);
        byte[] got = new byte[BlockFlags.CHUNK_SIZE];
        b.get(got);
        assertArrayEquals(data, got);
        assertEquals((5L << 20) | 0x09, b.getLong());
        assertEquals(5, b.get());
        b.position(b.position() + 5);
        assertEquals((42L << 9) | 0x04, b.getLong());
        assertEquals(0x02L, b.getLong());
        assertFalse(b.hasRemaining());

        MigrationInput in = MigrationInput.of(s);
        BlockRecord r = BlockRecordReader.read(in);
        assertTrue(r.deviceBlock() && r.hasData());
        assertEquals("disk0", r.device());
        assertEquals(3L << 20, r.offset());
        assertEquals(0, r.at());
        ByteBuffer dst = ByteBuffer.allocate(BlockFlags.CHUNK_SIZE);
        BlockRecordReader.readData(in, r, dst);
        assertArrayEquals(data, dst.array());
        r = BlockRecordReader.read(in);
        assertTrue(r.zero() && !r.hasData());
        assertEquals(5L << 20, r.offset());
        r = BlockRecordReader.read(in);
        assertTrue(r.progress());
        assertEquals(42, r.percent());
        assertNull(r.device());
        r = BlockRecordReader.read(in);
        assertTrue(r.eos());
        assertTrue(in.atEnd());
    }

    @Test
    void shortLastChunkCoversOnlyWhatIsLeft() {
        BlockRecord r = new BlockRecord(0, BlockFlags.DEVICE_BLOCK, 2 * BlockFlags.SECTORS_PER_CHUNK, "d");
        assertEquals(BlockFlags.CHUNK_SIZE, r.length(4L << 20));
        assertEquals(512 * 3, r.length((2L << 20) + 512 * 3));
    }

    private static MigrationStreamException refused(byte[] s) {
        return assertThrows(MigrationStreamException.class, () -> {
            MigrationInput in = MigrationInput.of(s);
            BlockRecord r = BlockRecordReader.read(in);
            if (r.hasData()) {
                BlockRecordReader.readData(in, r, ByteBuffer.allocate(BlockFlags.CHUNK_SIZE));
            }
        });
    }

    private static byte[] record(long v, byte[] rest) {
        return ByteBuffer.allocate(8 + rest.length).putLong(v).put(rest).array();
    }

    @Test
    void unknownFlagsAreRefusedWithTheirOffset() {
        MigrationStreamException e = refused(record(0x10, new byte[0]));
        assertEquals(0, e.offset());
        assertTrue(e.getMessage().contains("unknown block migration flags 0x10"), e.getMessage());
        assertTrue(refused(record(0, new byte[0])).getMessage().contains("unknown block migration flags 0x0"));
        assertTrue(refused(record(0x100 | 0x01, new byte[] {1, 'a'})).getMessage().contains("0x101"));
        assertTrue(refused(record(0x08, new byte[0])).getMessage().contains("zero-block flag without a device"));
        assertTrue(refused(record(0x05, new byte[] {1, 'a'})).getMessage().contains("progress flag"));
        assertTrue(refused(record((101L << 9) | 0x04, new byte[0])).getMessage().contains("progress of 101"));
        assertTrue(refused(record((1L << 9) | 0x02, new byte[0])).getMessage().contains("end-of-section record"));
    }

    @Test
    void badNamesAndOffsetsAreRefusedWithTheirOffset() {
        assertTrue(refused(record(0x01, new byte[] {0})).getMessage().contains("empty device name"));
        MigrationStreamException cut = refused(record(0x01, new byte[] {(byte) 200, 'a', 'b'}));
        assertTrue(cut.getMessage().contains("device name of 200 bytes at offset 8 runs past the end"),
                cut.getMessage());
        assertEquals(0, cut.offset());
        assertTrue(refused(record(0x01, new byte[] {2, 'a', 0})).getMessage().contains("control byte 0x0"));
        assertTrue(refused(record((7L << 9) | 0x01, new byte[] {1, 'a'})).getMessage()
                .contains("not on a 1 MiB boundary"));
        MigrationStreamException data = refused(record(0x01, new byte[] {1, 'a', 1, 2, 3}));
        assertTrue(data.getMessage().contains("data of the chunk of 'a' at offset 0x0 is cut short"),
                data.getMessage());
        // bit 63 of the address (found by BlockLoadFuzzTest): a byte offset no signed 64-bit long holds
        MigrationStreamException huge = refused(record(0x8000000000000000L | 0x01, new byte[] {5, 'd', 'i', 's', 'k',
                '0'}));
        assertEquals(0, huge.offset());
        assertTrue(huge.getMessage().contains("chunk at sector 18014398509481984 lies past the largest device offset"),
                huge.getMessage());
        assertTrue(refused(record(0x7ffffffffff00000L | 0x01, new byte[] {1, 'a'})).getMessage()
                .contains("lies past the largest device offset"));
        BlockRecord past = new BlockRecord(77, BlockFlags.DEVICE_BLOCK, 4L * BlockFlags.SECTORS_PER_CHUNK, "disk0");
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> BlockRecordReader.checkInside(past, 4L << 20));
        assertEquals(77, e.offset());
        assertTrue(e.getMessage().contains("chunk at offset 0x400000 is past the end of device 'disk0' (0x400000"),
                e.getMessage());
    }

    @Test
    void writerRefusesWhatQemuCouldNotRead() {
        assertThrows(IllegalArgumentException.class, () -> BlockRecordWriter.checkName(""));
        byte[] longName = new byte[256];
        Arrays.fill(longName, (byte) 'x');
        assertThrows(IllegalArgumentException.class,
                () -> BlockRecordWriter.checkName(new String(longName, StandardCharsets.US_ASCII)));
        assertEquals(255, BlockRecordWriter.checkName(new String(longName, 0, 255, StandardCharsets.US_ASCII)).length);
        assertThrows(IllegalArgumentException.class, () -> write(out -> BlockRecordWriter.writeChunk(out, DISK0, 512,
                ByteBuffer.allocate(BlockFlags.CHUNK_SIZE), false)));
        assertThrows(IllegalArgumentException.class, () -> write(out -> BlockRecordWriter.writeChunk(out, DISK0, 0,
                ByteBuffer.allocate(100), false)));
        assertThrows(IllegalArgumentException.class, () -> write(out -> BlockRecordWriter.writeProgress(out, 101)));
    }
}
