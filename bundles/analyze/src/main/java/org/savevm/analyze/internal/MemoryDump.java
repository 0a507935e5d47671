package org.savevm.analyze.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

import org.savevm.api.analyze.MemoryDumpSink;
import org.savevm.api.machine.RamBlock;
import org.savevm.stream.Printable;

/**
 * {@code --dump-memory DIR}: one file per RAM block, {@code DIR/<idstr with '/' replaced by '_'>.bin},
 * as long as the block's used length. Pages are written where the stream puts them, so later rounds
 * overwrite earlier ones. The files are sparse: a page of zeros is not written where the file holds
 * zeros already (a hole, or nothing written yet), and each file gets its length only when the dump is
 * closed, so a block the stream merely claims costs no disk. A block longer than {@code maxSize}, or
 * longer than the stream file could fill (every page record takes at least {@value #MIN_RECORD_BYTES}
 * bytes), is refused before its file is created.
 */
final class MemoryDump implements MemoryDumpSink, Closeable {
    /** The default of {@code --max-size}: 64 GiB. */
    static final long DEFAULT_MAX_SIZE = 64L << 30;
    /** The shortest page record: be64 offset|flags (CONTINUE) and one fill byte of a zero page. */
    static final int MIN_RECORD_BYTES = 9;
    private final Path dir;
    private final long maxSize;
    private final long streamSize;
    private int pageSize = RamBlock.TARGET_PAGE_SIZE;
    /** Zero pages are checked against the file up to 64 KiB (a huge page's worth is written as it comes). */
    private final SparseFiles files = new SparseFiles(65536);

    /**
     * @param maxSize    the longest block dumped
     * @param streamSize the stream file's length, which bounds how much memory it can describe
     */
    MemoryDump(Path dir, long maxSize, long streamSize) {
        this.dir = dir;
        this.maxSize = maxSize;
        this.streamSize = streamSize;
    }

    /** The stream's target page size, once known: the most memory one record can fill. */
    void pageSize(int bytes) {
        this.pageSize = bytes;
    }

    @Override
    public String fileName(String idstr) {
        return idstr.replace('/', '_') + ".bin";
    }

    /** Creates (or truncates) the file of one block; its length is set when the dump is closed. */
    @Override
    public DumpFile create(String idstr, long usedLength) throws IOException {
        String shown = Printable.escape(idstr);
        if (usedLength < 0 || usedLength > maxSize) {
            throw new IOException(String.format("RAM block '%s' of 0x%x bytes exceeds the dump limit of 0x%x bytes "
                    + "(--max-size)", shown, usedLength, maxSize));
        }
        long carried = streamSize / MIN_RECORD_BYTES * pageSize;
        if (usedLength > carried) {
            throw new IOException(String.format("RAM block '%s' of 0x%x bytes is more than a stream of %d bytes can "
                    + "hold (at most 0x%x bytes of pages at %d bytes a record)", shown, usedLength, streamSize, carried,
                    MIN_RECORD_BYTES));
        }
        String name = fileName(idstr);
        if (!files.claim(name)) {
            throw new IOException("RAM blocks '" + shown + "' and another one map to the same dump file "
                    + Printable.escape(name));
        }
        Path p;
        try {
            p = dir.resolve(name);
        } catch (InvalidPathException e) {
            throw new IOException("RAM block name '" + shown + "' cannot be a file name: " + e.getMessage());
        }
        return files.create(p, usedLength);
    }

    @Override
    public void close() throws IOException {
        files.close();
    }
}
