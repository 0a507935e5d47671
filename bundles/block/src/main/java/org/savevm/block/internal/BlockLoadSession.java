package org.savevm.block.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockMigrationStats;
import org.savevm.api.machine.Machine;
import org.savevm.block.codec.BlockFlags;
import org.savevm.block.codec.BlockRecord;
import org.savevm.block.codec.BlockRecordReader;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * The load side of the "block" section (QEMU 7.2's block_load): each chunk goes to the machine's drive of that
 * device name, through its image; the short last chunk writes only what is left of the device. A ZERO_BLOCK, and
 * a chunk whose data is all zeros, become {@link BlockImage#writeZeroes} (holes in raw, zero clusters in qcow2),
 * as QEMU writes zeroes with BDRV_REQ_MAY_UNMAP. Every error names the device and the record's byte offset.
 */
final class BlockLoadSession implements LiveStateHandler.LoadSession, BlockMigrationStats {
    private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(BlockFlags.CHUNK_SIZE).asReadOnlyBuffer();

    private final Machine machine;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(BlockFlags.CHUNK_SIZE);
    private final Map<String, BlockDrive> used = new LinkedHashMap<>();
    private final Map<String, Long> sizes = new HashMap<>();
    private volatile long transferred;
    private volatile int lastPercent = -1;

    BlockLoadSession(Machine machine) {
        this.machine = machine;
    }

    @Override
    public void load(MigrationInput in, int version) throws IOException {
        while (true) {
            BlockRecord r = BlockRecordReader.read(in);
            if (r.deviceBlock()) {
                chunk(in, r);
            } else if (r.progress()) {
                lastPercent = r.percent();
            }
            if (r.eos()) {
                return;
            }
        }
    }

    private void chunk(MigrationInput in, BlockRecord r) throws IOException {
        BlockDrive drive = used.get(r.device());
        if (drive == null) {
            drive = machine.drive(r.device()).orElseThrow(() -> new MigrationStreamException(
                    "block: unknown block device '" + r.device() + "'", r.at()));
            if (drive.readOnly()) {
                throw new MigrationStreamException("block: device '" + r.device() + "' is read-only", r.at());
            }
            used.put(r.device(), drive);
            sizes.put(r.device(), drive.size());
        }
        long size = sizes.get(r.device());
        BlockRecordReader.checkInside(r, size);
        int len = r.length(size);
        BlockImage image = drive.image();
        boolean zero = r.zero();
        if (!zero) {
            buf.clear();
            BlockRecordReader.readData(in, r, buf);
            buf.position(0).limit(len);
            zero = buf.mismatch(ZERO.duplicate().limit(len)) < 0;
        }
        try {
            if (zero) {
                image.writeZeroes(r.offset(), len);
            } else {
                image.write(r.offset(), buf);
            }
        } catch (IOException e) {
            throw new MigrationStreamException(String.format("block: writing device '%s' at offset 0x%x failed: %s",
                    r.device(), r.offset(), e.getMessage()), r.at(), e);
        }
        transferred += len;
    }

    /** Everything arrived: make the written chunks durable before the destination reports completion. */
    @Override
    public void complete() throws IOException {
        for (BlockDrive d : used.values()) {
            try {
                d.image().flush();
            } catch (IOException e) {
                throw new IOException("block: flushing device '" + d.name() + "' failed: " + e.getMessage(), e);
            }
        }
    }

    /** The last progress the source reported, or -1. */
    int lastPercent() {
        return lastPercent;
    }

    @Override
    public long transferred() {
        return transferred;
    }

    @Override
    public long remaining() {
        return lastPercent == 100 ? 0 : Math.max(0, total() - transferred);
    }

    @Override
    public long total() {
        long t = 0;
        for (BlockDrive d : machine.drives()) {
            if (!d.readOnly()) {
                t += d.size();
            }
        }
        return t;
    }
}
