package org.savevm.image.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import org.savevm.image.internal.FileIo;

/**
 * Writes a new, empty qcow2 version 3 image as {@code qemu-img create -f qcow2} does: 64 KiB clusters, 16-bit
 * refcounts, zlib, no lazy refcounts; the header cluster (with the backing format and feature name extensions and the
 * backing file name), the refcount table in cluster 1, its first refcount block in cluster 2, the L1 table from
 * cluster 3, each counted once.
 */
public final class Qcow2Create {
    public static final int CLUSTER_BITS = 16;

    private Qcow2Create() {
    }

    /**
     * Creates {@code file} (which must not exist) of {@code size} bytes (a multiple of 512). {@code backingName} is
     * stored as given; QEMU resolves a relative one against the image's directory.
     */
    public static void create(Path file, long size, Optional<String> backingName, Optional<String> backingFormat)
            throws IOException {
        if (size < 0 || size % 512 != 0) {
            throw new IOException(file + ": qcow2 image size " + size + " is not a non-negative multiple of 512");
        }
        int clusterSize = 1 << CLUSTER_BITS;
        long l1Entries = Math.max(1, Qcow2Header.l1EntriesFor(size, CLUSTER_BITS));
        if (l1Entries * 8 > Qcow2Header.MAX_L1_BYTES) {
            throw new IOException(file + ": image size " + size + " needs an L1 table larger than "
                    + (Qcow2Header.MAX_L1_BYTES >> 20) + " MiB");
        }
        int l1Clusters = (int) ((l1Entries * 8 + clusterSize - 1) / clusterSize);
        long refTable = clusterSize;
        long refBlock = 2L * clusterSize;
        long l1Offset = 3L * clusterSize;
        int used = 3 + l1Clusters;

        ByteBuffer header = Qcow2Header.encodeNew(CLUSTER_BITS, size, (int) l1Entries, l1Offset, refTable, 1,
                backingName, backingFormat);
        ByteBuffer table = ByteBuffer.allocate(clusterSize).putLong(0, refBlock);
        ByteBuffer block = ByteBuffer.allocate(clusterSize);
        for (int c = 0; c < used; c++) {
            block.putShort(c * 2, (short) 1);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            try {
                FileIo.writeFully(ch, file, refTable, table);
                FileIo.writeFully(ch, file, refBlock, block);
                FileIo.writeFully(ch, file, l1Offset, ByteBuffer.allocate(l1Clusters * clusterSize));
                ch.force(true);
                // the header last: until it is there the file is no qcow2 image at all
                FileIo.writeFully(ch, file, 0, header);
                ch.force(true);
            } catch (IOException | RuntimeException e) {
                ch.close();
                Files.deleteIfExists(file);
                throw e;
            }
        }
    }
}
