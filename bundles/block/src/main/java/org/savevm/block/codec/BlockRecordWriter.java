package org.savevm.block.codec;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.savevm.stream.MigrationOutput;

/** Writes "block" records as QEMU 7.2's blk_send and the progress/EOS records of block.c. */
public final class BlockRecordWriter {
    private BlockRecordWriter() {
    }

    /** Checks a device name for the wire: 1 to 255 bytes of UTF-8. Returns its bytes. */
    public static byte[] checkName(String device) {
        byte[] b = device.getBytes(StandardCharsets.UTF_8);
        if (b.length == 0 || b.length > BlockFlags.MAX_NAME_BYTES) {
            throw new IllegalArgumentException("block: device name of " + b.length + " bytes (1 to "
                    + BlockFlags.MAX_NAME_BYTES + "): '" + device + "'");
        }
        return b;
    }

    /**
     * A device block at byte {@code offset} (a multiple of 1 MiB). {@code data} holds exactly 1 MiB, the bytes
     * past a short last chunk included, and is written by reference when it is a direct buffer: it must stay
     * untouched until the output's next flush. With {@code zero} only the header goes out (ZERO_BLOCK).
     */
    public static void writeChunk(MigrationOutput out, byte[] name, long offset, ByteBuffer data, boolean zero) {
        if (offset < 0 || offset % BlockFlags.CHUNK_SIZE != 0) {
            throw new IllegalArgumentException("block: chunk offset " + offset + " is not on a 1 MiB boundary");
        }
        int flags = BlockFlags.DEVICE_BLOCK | (zero ? BlockFlags.ZERO_BLOCK : 0);
        out.putBe64(offset | flags);
        out.putByte(name.length).putBytes(name);
        if (!zero) {
            if (data.remaining() != BlockFlags.CHUNK_SIZE) {
                throw new IllegalArgumentException("block: chunk data of " + data.remaining() + " bytes, not 1 MiB");
            }
            out.putBuffer(data);
        }
    }

    /** A progress record: {@code percent} (0..100) of the bulk phase. */
    public static void writeProgress(MigrationOutput out, int percent) {
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("block: progress " + percent + " %");
        }
        out.putBe64(((long) percent << BlockFlags.SECTOR_BITS) | BlockFlags.PROGRESS);
    }

    /** The end of the section's records. */
    public static void writeEos(MigrationOutput out) {
        out.putBe64(BlockFlags.EOS);
    }
}
