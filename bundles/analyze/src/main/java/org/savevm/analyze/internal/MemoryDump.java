package org.savevm.analyze.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
    private final Set<String> names = new HashSet<>();
    private final List<FileChannel> open = new ArrayList<>();
    private final Map<FileChannel, Long> lengths = new LinkedHashMap<>();
    private final byte[] existing = new byte[65536];

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
        if (!names.add(name)) {
            throw new IOException("RAM blocks '" + shown + "' and another one map to the same dump file "
                    + Printable.escape(name));
        }
        Path p;
        try {
            p = dir.resolve(name);
        } catch (InvalidPathException e) {
            throw new IOException("RAM block name '" + shown + "' cannot be a file name: " + e.getMessage());
        }
        FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        open.add(ch);
        lengths.put(ch, usedLength);
        return new DumpFile() {
            @Override
            public void write(long offset, byte[] data, int length) throws IOException {
                if (allZero(data, length) && zeroAlready(ch, offset, length)) {
                    return; // stays a hole: what a never-written or zero page reads as anyway
                }
                MemoryDump.write(ch, offset, data, length);
            }

            @Override
            public void read(long offset, byte[] data, int length) throws IOException {
                MemoryDump.read(ch, offset, data, length);
            }
        };
    }

    private static boolean allZero(byte[] data, int length) {
        for (int i = 0; i < length; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether the file reads as zeros there: past its end, or zeros written or left as a hole before. */
    private boolean zeroAlready(FileChannel ch, long offset, int length) throws IOException {
        if (offset >= ch.size()) {
            return true;
        }
        if (length > existing.length) {
            return false;
        }
        read(ch, offset, existing, length);
        return allZero(existing, length);
    }

    private static void write(FileChannel ch, long offset, byte[] page, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(page, 0, len);
        long pos = offset;
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
    }

    /** The current content of a page (zeros where nothing was written yet). */
    private static void read(FileChannel ch, long offset, byte[] page, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(page, 0, len);
        long pos = offset;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                while (b.hasRemaining()) {
                    b.put((byte) 0);
                }
                return;
            }
            pos += n;
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (FileChannel ch : open) {
            try {
                long length = lengths.getOrDefault(ch, 0L);
                if (ch.isOpen() && ch.size() < length) {
                    // the length at the end, as one byte: everything before it not written stays a hole
                    ch.write(ByteBuffer.allocate(1), length - 1);
                }
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
            try {
                ch.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        open.clear();
        lengths.clear();
        if (first != null) {
            throw first;
        }
    }
}
