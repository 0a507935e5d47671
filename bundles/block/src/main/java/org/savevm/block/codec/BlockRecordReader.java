package org.savevm.block.codec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * Reads and checks "block" records. Stricter than QEMU's block_load, which only refuses a record with none of
 * DEVICE_BLOCK, PROGRESS or EOS: here any bit QEMU does not define, ZERO_BLOCK without DEVICE_BLOCK, an empty
 * device name, a chunk not on a 1 MiB boundary and a progress above 100 are refused too — none of them occurs in
 * a stream QEMU 7.2 writes. Every error names the record's byte offset.
 */
public final class BlockRecordReader {
    /** The last sector a chunk may start at: its byte offset plus 1 MiB still fits a signed 64-bit long. */
    private static final long MAX_CHUNK_SECTOR = (Long.MAX_VALUE - BlockFlags.CHUNK_SIZE) >>> BlockFlags.SECTOR_BITS;

    private BlockRecordReader() {
    }

    /** Reads one record header (and the device name of a device block); the data, if any, is left in {@code in}. */
    public static BlockRecord read(MigrationInput in) throws IOException {
        long at = in.position();
        long v = in.getBe64();
        int flags = (int) (v & (BlockFlags.SECTOR_SIZE - 1));
        long sector = v >>> BlockFlags.SECTOR_BITS;
        if ((flags & ~BlockFlags.KNOWN) != 0 || flags == 0) {
            throw new MigrationStreamException("block: unknown block migration flags " + BlockFlags.describe(flags)
                    + " in record 0x" + Long.toHexString(v), at);
        }
        if ((flags & BlockFlags.DEVICE_BLOCK) != 0) {
            if ((flags & BlockFlags.PROGRESS) != 0) {
                throw new MigrationStreamException("block: device block with the progress flag ("
                        + BlockFlags.describe(flags) + ")", at);
            }
            if (sector > MAX_CHUNK_SECTOR) {
                // its byte offset (and end) would not fit a signed 64-bit offset: past any device there can be
                throw new MigrationStreamException("block: chunk at sector " + Long.toUnsignedString(sector)
                        + " lies past the largest device offset", at);
            }
            if (sector % BlockFlags.SECTORS_PER_CHUNK != 0) {
                throw new MigrationStreamException("block: chunk at sector " + sector
                        + " is not on a 1 MiB boundary", at);
            }
            String name = readName(in, at);
            return new BlockRecord(at, flags, sector, name);
        }
        if ((flags & BlockFlags.ZERO_BLOCK) != 0) {
            throw new MigrationStreamException("block: zero-block flag without a device block ("
                    + BlockFlags.describe(flags) + ")", at);
        }
        if ((flags & BlockFlags.PROGRESS) != 0) {
            if (sector > 100) {
                throw new MigrationStreamException("block: progress of " + sector + " %", at);
            }
            return new BlockRecord(at, flags, sector, null);
        }
        if (sector != 0) {
            throw new MigrationStreamException("block: end-of-section record with a sector (0x"
                    + Long.toHexString(v) + ")", at);
        }
        return new BlockRecord(at, flags, 0, null);
    }

    private static String readName(MigrationInput in, long recordAt) throws IOException {
        long at = in.position();
        int len = in.getByte();
        if (len == 0) {
            throw new MigrationStreamException("block: device block with an empty device name", recordAt);
        }
        byte[] b;
        try {
            b = in.readBytes(len);
        } catch (MigrationStreamException e) {
            throw new MigrationStreamException("block: device name of " + len + " bytes at offset " + at
                    + " runs past the end of the stream", recordAt, e);
        }
        for (byte c : b) {
            if (c == 0 || (c & 0xff) < 0x20 || c == 0x7f) {
                throw new MigrationStreamException("block: device name with a control byte 0x"
                        + Integer.toHexString(c & 0xff), recordAt);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new MigrationStreamException("block: device name is not UTF-8", recordAt);
        }
    }

    /** Checks that the chunk of {@code r} starts inside a device of {@code deviceSize} bytes. */
    public static void checkInside(BlockRecord r, long deviceSize) throws MigrationStreamException {
        if (r.offset() >= deviceSize) {
            throw new MigrationStreamException(String.format("block: chunk at offset 0x%x is past the end of device"
                    + " '%s' (0x%x bytes)", r.offset(), r.device(), deviceSize), r.at());
        }
    }

    /** Reads the 1 MiB of data after {@code r}'s header into {@code dst} (at least 1 MiB remaining). */
    public static void readData(MigrationInput in, BlockRecord r, ByteBuffer dst) throws IOException {
        if (dst.remaining() < BlockFlags.CHUNK_SIZE) {
            throw new IllegalArgumentException("buffer of " + dst.remaining() + " bytes for a 1 MiB chunk");
        }
        ByteBuffer d = dst.slice(dst.position(), BlockFlags.CHUNK_SIZE);
        try {
            in.readFully(d);
        } catch (MigrationStreamException e) {
            throw new MigrationStreamException("block: data of the chunk of '" + r.device() + "' at offset 0x"
                    + Long.toHexString(r.offset()) + " is cut short: " + e.getMessage(), r.at(), e);
        }
        dst.position(dst.position() + BlockFlags.CHUNK_SIZE);
    }

    /** Skips the data after {@code r}'s header. */
    public static void skipData(MigrationInput in, BlockRecord r) throws IOException {
        try {
            in.skip(BlockFlags.CHUNK_SIZE);
        } catch (MigrationStreamException e) {
            throw new MigrationStreamException("block: data of the chunk of '" + r.device() + "' at offset 0x"
                    + Long.toHexString(r.offset()) + " is cut short: " + e.getMessage(), r.at(), e);
        }
    }
}
