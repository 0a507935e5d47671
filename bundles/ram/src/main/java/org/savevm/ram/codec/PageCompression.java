package org.savevm.ram.codec;

import java.io.IOException;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import org.savevm.api.machine.RamBlock;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * One page in, one independent zlib stream out, as QEMU's qemu_compress_data: deflateReset then
 * deflate(Z_FINISH) with the zlib wrapper, window 15, memLevel 8, default strategy — which is what
 * {@code new Deflater(level)} is. Not thread-safe: one per worker thread.
 */
public final class PageCompression {
    /** zlib's compressBound of a target page: the largest COMPRESS_PAGE payload QEMU accepts. */
    public static final int MAX_COMPRESSED = compressBound(RamBlock.TARGET_PAGE_SIZE);

    private final Deflater deflater;
    private final Inflater inflater = new Inflater();

    public PageCompression(int level) {
        if (level < 0 || level > 9) {
            throw new IllegalArgumentException("compress-level must be 0..9: " + level);
        }
        this.deflater = new Deflater(level, false);
    }

    /**
     * Reads the be32 length of a COMPRESS_PAGE payload, refusing more than {@code maxLength} (QEMU:
     * compressBound of the page size). {@code at} is the record's offset.
     */
    public static int readLength(MigrationInput in, long at, int maxLength) throws IOException {
        int len = in.getBe32();
        if (len < 0 || len > maxLength) {
            throw new MigrationStreamException("ram: Invalid compressed data length: " + len + " (max " + maxLength
                    + ")", at);
        }
        return len;
    }

    /** zlib's compressBound. */
    public static int compressBound(int n) {
        return n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 13;
    }

    /** Compresses {@code len} bytes into {@code out} (at least {@link #MAX_COMPRESSED} long); returns the length. */
    public int compress(byte[] page, int off, int len, byte[] out) {
        deflater.reset();
        deflater.setInput(page, off, len);
        deflater.finish();
        int n = 0;
        while (!deflater.finished()) {
            if (n == out.length) {
                throw new IllegalStateException("compressed page larger than " + out.length + " bytes");
            }
            n += deflater.deflate(out, n, out.length - n);
        }
        return n;
    }

    /**
     * Inflates {@code in[0..len)} into {@code page[0..pageLen)}. Returns the bytes produced; throws when
     * the data is not a complete zlib stream that fits the page.
     */
    public int decompress(byte[] in, int len, byte[] page, int pageLen) throws DataFormatException {
        inflater.reset();
        inflater.setInput(in, 0, len);
        int n = 0;
        while (!inflater.finished()) {
            int k = inflater.inflate(page, n, pageLen - n);
            n += k;
            if (k == 0 && !inflater.finished()) {
                if (inflater.needsDictionary()) {
                    throw new DataFormatException("zlib stream needs a preset dictionary");
                }
                if (inflater.needsInput()) {
                    throw new DataFormatException("truncated zlib stream");
                }
                throw new DataFormatException("decompressed data larger than a page");
            }
        }
        return n;
    }

    public void close() {
        deflater.end();
        inflater.end();
    }
}
