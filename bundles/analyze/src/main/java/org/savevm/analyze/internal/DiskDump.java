package org.savevm.analyze.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

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
    /** A zero chunk is checked against the file in one piece. */
    private final SparseFiles files = new SparseFiles(1 << 20);

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
        if (name.startsWith(".") || !files.claim(name)) {
            throw new IOException("device '" + shown + "' cannot be dumped as " + Printable.escape(name)
                    + " (a hidden name, or another device maps to it)");
        }
        Path p;
        try {
            p = dir.resolve(name);
        } catch (InvalidPathException e) {
            throw new IOException("device name '" + shown + "' cannot be a file name: " + e.getMessage());
        }
        SparseFiles.SparseFile file = files.create(p, length);
        return new DumpFile() {
            @Override
            public void write(long offset, byte[] data, int len) throws IOException {
                if (offset < 0 || offset + len > maxSize) {
                    throw new IOException(String.format("disk '%s': data up to 0x%x bytes exceeds the dump limit of "
                            + "0x%x bytes (--max-size)", shown, offset + len, maxSize));
                }
                file.extendTo(offset + len);
                file.write(offset, data, len);
            }

            @Override
            public void read(long offset, byte[] data, int len) throws IOException {
                file.read(offset, data, len);
            }
        };
    }

    @Override
    public void close() throws IOException {
        files.close();
    }
}
