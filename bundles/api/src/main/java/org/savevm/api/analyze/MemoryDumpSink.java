package org.savevm.api.analyze;

import java.io.IOException;

/** {@code --dump-memory DIR}: one file per memory region, as long as the region, zero where nothing was written. */
public interface MemoryDumpSink {
    /** Creates (or truncates) the file of region {@code name} with its length. */
    DumpFile create(String name, long length) throws IOException;

    /** The file name {@link #create} uses for {@code name}, for the result. */
    String fileName(String name);

    /** One region's file. */
    interface DumpFile {
        void write(long offset, byte[] data, int length) throws IOException;

        /** The current content (zeros where nothing was written yet). */
        void read(long offset, byte[] data, int length) throws IOException;
    }
}
