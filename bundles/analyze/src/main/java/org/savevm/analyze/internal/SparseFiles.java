package org.savevm.analyze.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.savevm.api.analyze.MemoryDumpSink.DumpFile;

/**
 * The sparse files behind analyze-stream's extract options ({@code --dump-memory}, {@code --dump-disks}): data of
 * zeros is not written where the file reads as zeros already (a hole, or nothing written yet), and each file gets its
 * length only when the dump is closed, so what a stream merely claims costs no disk.
 */
final class SparseFiles implements Closeable {
    private final Set<String> names = new HashSet<>();
    private final List<SparseFile> files = new ArrayList<>();
    /** Scratch for reading back what a file holds; longer zero writes are written without looking. */
    private final byte[] existing;

    SparseFiles(int longestZeroCheck) {
        this.existing = new byte[longestZeroCheck];
    }

    /** Takes {@code name} for one file of this dump; false when another one has it already. */
    boolean claim(String name) {
        return names.add(name);
    }

    /** Creates (or truncates) {@code path}, {@code length} bytes long once the dump is closed (or longer). */
    SparseFile create(Path path, long length) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        SparseFile f = new SparseFile(ch, Math.max(0, length));
        files.add(f);
        return f;
    }

    /** One file: sparse writes, reads with zeros past its end, and the length it gets at close. */
    final class SparseFile implements DumpFile {
        private final FileChannel ch;
        private long length;
        /** The end of what was written: the file was created empty and only this object writes to it. */
        private long written;

        private SparseFile(FileChannel ch, long length) {
            this.ch = ch;
            this.length = length;
        }

        /** The file will be at least {@code end} bytes long. */
        void extendTo(long end) {
            length = Math.max(length, end);
        }

        @Override
        public void write(long offset, byte[] data, int len) throws IOException {
            if (allZero(data, len) && zeroAlready(offset, len)) {
                return; // stays a hole: what never-written or zero data reads as anyway
            }
            ByteBuffer b = ByteBuffer.wrap(data, 0, len);
            long pos = offset;
            while (b.hasRemaining()) {
                pos += ch.write(b, pos);
            }
            written = Math.max(written, pos);
        }

        /** The current content (zeros where nothing was written yet). */
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

        /** Whether the file reads as zeros there: past its end, or zeros written or left as a hole before. */
        private boolean zeroAlready(long offset, int len) throws IOException {
            if (offset >= written) {
                return true; // no size() system call per page
            }
            if (len > existing.length) {
                return false;
            }
            read(offset, existing, len);
            return allZero(existing, len);
        }
    }

    /** Compared against, never written. */
    private static final byte[] ZEROS = new byte[1 << 16];

    /**
     * Whether the first {@code length} bytes are zero, through the JDK's vectorized mismatch: every zero-page
     * record of a dump comes through here (16 MiB of them for a 16 MiB guest), and a byte loop made that the
     * bulk of an analyze-stream run (and of its fuzz target, where every compare is traced).
     */
    private static boolean allZero(byte[] data, int length) {
        for (int at = 0; at < length; at += ZEROS.length) {
            int n = Math.min(ZEROS.length, length - at);
            if (Arrays.mismatch(data, at, at + n, ZEROS, 0, n) >= 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SparseFile f : files) {
            try {
                if (f.ch.isOpen() && f.ch.size() < f.length) {
                    // the length at the end, as one byte: everything before it not written stays a hole
                    f.ch.write(ByteBuffer.allocate(1), f.length - 1);
                }
            } catch (IOException e) {
                first = first == null ? e : first;
            }
            try {
                f.ch.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        files.clear();
        if (first != null) {
            throw first;
        }
    }
}
