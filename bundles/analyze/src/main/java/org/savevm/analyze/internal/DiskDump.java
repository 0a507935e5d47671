package org.savevm.analyze.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.savevm.api.analyze.MemoryDumpSink;
import org.savevm.stream.Printable;

/**
 * {@code --dump-disks DIR}: one raw image per device of the "block" sections, {@code DIR/<device>.raw}. The stream
 * does not carry a device's size, so each file is as long as the furthest chunk written into it (a whole 1 MiB
 * chunk: a device whose size is not a multiple of 1 MiB comes out rounded up). All-zero data is not written (the
 * file stays sparse where it is zero already); the length is set when the dump is closed, and a chunk whose end
 * lies past {@code maxSize} ({@code --max-size}) is refused before anything is written for it.
 */
final class DiskDump implements MemoryDumpSink, Closeable {
    private final Path dir;
    private final long maxSize;
    private final Set<String> names = new HashSet<>();
    private final Map<FileChannel, long[]> lengths = new LinkedHashMap<>();
    private final byte[] existing = new byte[1 << 20];

    DiskDump(Path dir, long maxSize) {
        this.dir = dir;
        this.maxSize = maxSize;
    }

    @Override
    public String fileName(String device) {
        return device.replace('/', '_') + ".raw";
    }

    /** Creates (or truncates) the image of {@code device}; {@code length} is where it starts (usually 0). */
    @Override
    public DumpFile create(String device, long length) throws IOException {
        String shown = Printable.escape(device);
        String name = fileName(device);
        if (name.startsWith(".") || !names.add(name)) {
            throw new IOException("device '" + shown + "' cannot be dumped as " + Printable.escape(name)
                    + " (a hidden name, or another device maps to it)");
        }
        Path p;
        try {
            p = dir.resolve(name);
        } catch (InvalidPathException e) {
            throw new IOException("device name '" + shown + "' cannot be a file name: " + e.getMessage());
        }
        FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        long[] end = {Math.max(0, length)};
        lengths.put(ch, end);
        return new DumpFile() {
            @Override
            public void write(long offset, byte[] data, int len) throws IOException {
                if (offset < 0 || offset + len > maxSize) {
                    throw new IOException(String.format("disk '%s': data up to 0x%x bytes exceeds the dump limit of "
                            + "0x%x bytes (--max-size)", shown, offset + len, maxSize));
                }
                end[0] = Math.max(end[0], offset + len);
                if (allZero(data, len) && zeroAlready(ch, offset, len)) {
                    return;
                }
                ByteBuffer b = ByteBuffer.wrap(data, 0, len);
                long pos = offset;
                while (b.hasRemaining()) {
                    pos += ch.write(b, pos);
                }
            }

            @Override
            public void read(long offset, byte[] data, int len) throws IOException {
                ByteBuffer b = ByteBuffer.wrap(data, 0, len);
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

    private boolean zeroAlready(FileChannel ch, long offset, int length) throws IOException {
        if (offset >= ch.size()) {
            return true;
        }
        if (length > existing.length) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(existing, 0, length);
        long pos = offset;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                break;
            }
            pos += n;
        }
        while (b.hasRemaining()) {
            b.put((byte) 0);
        }
        return allZero(existing, length);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Map.Entry<FileChannel, long[]> e : lengths.entrySet()) {
            FileChannel ch = e.getKey();
            try {
                if (ch.isOpen() && ch.size() < e.getValue()[0]) {
                    // the length at the end, as one byte: everything before it not written stays a hole
                    ch.write(ByteBuffer.allocate(1), e.getValue()[0] - 1);
                }
            } catch (IOException x) {
                first = first == null ? x : first;
            }
            try {
                ch.close();
            } catch (IOException x) {
                first = first == null ? x : first;
            }
        }
        lengths.clear();
        if (first != null) {
            throw first;
        }
    }
}
