package org.savevm.ram.internal.compress;

import java.io.IOException;

/** Where finished compression jobs go, on the migration thread, in submission order. */
public interface CompressedPageSink<B> {
    /** The worker found the page all zero: a ZERO record. */
    void zeroPage(B block, long offset) throws IOException;

    /** A COMPRESS_PAGE record with {@code data[0..len)}. */
    void compressedPage(B block, long offset, byte[] data, int len) throws IOException;
}
