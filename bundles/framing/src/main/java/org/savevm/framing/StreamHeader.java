package org.savevm.framing;

import java.io.IOException;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/** The 8-byte file header: magic "QEVM" and format version 3. */
public final class StreamHeader {
    public static final int MAGIC = 0x5145564d;
    public static final int VERSION_COMPAT = 2;
    public static final int VERSION = 3;

    private StreamHeader() {
    }

    public static void write(MigrationOutput out) {
        out.putBe32(MAGIC);
        out.putBe32(VERSION);
    }

    /** Reads and checks the header with QEMU's messages. */
    public static void read(MigrationInput in) throws IOException {
        long at = in.position();
        int magic = in.getBe32();
        if (magic != MAGIC) {
            throw new MigrationStreamException(String.format("Not a migration stream (magic 0x%08x)", magic), at);
        }
        at = in.position();
        int version = in.getBe32();
        if (version == VERSION_COMPAT) {
            throw new MigrationStreamException("SaveVM v2 format is obsolete", at);
        }
        if (version != VERSION) {
            throw new MigrationStreamException("Unsupported migration stream version " + version, at);
        }
    }
}
