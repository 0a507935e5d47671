package org.savevm.image.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import org.savevm.image.internal.FileIo;

/**
 * A compressed cluster's descriptor (docs/interop/qcow2.txt "Compressed Clusters Descriptor") and its zlib
 * decompression: raw deflate, no zlib header, as QEMU's qcow2_decompress (windowBits -12) writes it.
 *
 * <p>With x = 62 - (cluster_bits - 8), bits 0..x-1 are the host byte offset and bits x..61 the number of 512-byte
 * sectors after the one holding the offset; the compressed data is at most that long (never more than two
 * clusters), and decompression must produce exactly one cluster.
 */
final class CompressedCluster {
    static final int SECTOR = 512;

    final long hostOffset;
    /** Bytes to read: sectors * 512 minus the offset's position in its first sector (QEMU's csize). */
    final int length;

    private CompressedCluster(long hostOffset, int length) {
        this.hostOffset = hostOffset;
        this.length = length;
    }

    static CompressedCluster of(long entry, int clusterBits) {
        int shift = 62 - (clusterBits - 8);
        long offsetMask = (1L << shift) - 1;
        long sectorsMask = (1L << (clusterBits - 8)) - 1;
        long host = entry & offsetMask;
        long sectors = ((entry >>> shift) & sectorsMask) + 1;
        return new CompressedCluster(host, (int) (sectors * SECTOR - (host & (SECTOR - 1))));
    }

    /** First and last host cluster the data touches (each holds one reference for this compressed cluster). */
    long firstCluster(int clusterBits) {
        return hostOffset >>> clusterBits;
    }

    long lastCluster(int clusterBits) {
        return (hostOffset + length - 1) >>> clusterBits;
    }

    /** Decompresses into {@code out} (exactly one cluster); errors name the file and both offsets. */
    void read(FileChannel ch, Path file, long fileSize, long guestOffset, ByteBuffer out) throws IOException {
        if (hostOffset >= fileSize) {
            throw new Qcow2FormatException(file + ": compressed cluster for guest offset " + guestOffset
                    + " at host offset " + hostOffset + " lies past the end of the file (" + fileSize + " bytes)");
        }
        ByteBuffer in = ByteBuffer.allocate(length);
        // the last compressed cluster may end before its last sector does: QEMU reads the short tail as zeros
        FileIo.readOrZero(ch, file, hostOffset, in);
        in.flip();
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(in);
            int want = out.remaining();
            int got = 0;
            while (got < want) {
                int n = inflater.inflate(out);
                got += n;
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
            }
            if (got != want) {
                throw new Qcow2FormatException(file + ": bad compressed cluster for guest offset " + guestOffset
                        + " at host offset " + hostOffset + " (+" + length + " bytes): inflated to " + got
                        + " bytes, not " + want);
            }
        } catch (DataFormatException e) {
            throw new Qcow2FormatException(file + ": bad compressed cluster for guest offset " + guestOffset
                    + " at host offset " + hostOffset + " (+" + length + " bytes): " + e.getMessage());
        } finally {
            inflater.end();
        }
    }
}
