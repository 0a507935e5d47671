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
import java.util.List;
import java.util.Set;

import org.savevm.api.analyze.MemoryDumpSink;

/**
 * {@code --dump-memory DIR}: one file per RAM block, {@code DIR/<idstr with '/' replaced by '_'>.bin},
 * as long as the block's used length. Pages are written where the stream puts them, so later rounds
 * overwrite earlier ones; what the stream never sent stays zero (a sparse hole).
 */
final class MemoryDump implements MemoryDumpSink, Closeable {
    private final Path dir;
    private final Set<String> names = new HashSet<>();
    private final List<FileChannel> open = new ArrayList<>();

    MemoryDump(Path dir) {
        this.dir = dir;
    }

    @Override
    public String fileName(String idstr) {
        return idstr.replace('/', '_') + ".bin";
    }

    /** Creates (or truncates) the file of one block and gives it its length. */
    @Override
    public DumpFile create(String idstr, long usedLength) throws IOException {
        String name = fileName(idstr);
        if (!names.add(name)) {
            throw new IOException("RAM blocks '" + idstr + "' and another one map to the same dump file " + name);
        }
        Path p;
        try {
            p = dir.resolve(name);
        } catch (InvalidPathException e) {
            throw new IOException("RAM block name '" + idstr + "' cannot be a file name: " + e.getMessage());
        }
        FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        open.add(ch);
        if (usedLength > 0) {
            ch.write(ByteBuffer.allocate(1), usedLength - 1);
        }
        return new DumpFile() {
            @Override
            public void write(long offset, byte[] data, int length) throws IOException {
                MemoryDump.write(ch, offset, data, length);
            }

            @Override
            public void read(long offset, byte[] data, int length) throws IOException {
                MemoryDump.read(ch, offset, data, length);
            }
        };
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
                ch.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }
}
