package org.savevm.ram.codec;

import java.io.IOException;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * The block of a page record (ram.c's ram_block_from_stream): its idstr follows the record header, or
 * with {@link RamFlags#CONTINUE} it is the block of the previous page record. {@code B} is the
 * reader's own block type.
 */
public final class RecordBlocks<B> {
    /** Finds a block by the idstr a record names; fails with the reader's message when there is none. */
    @FunctionalInterface
    public interface Lookup<B> {
        B find(String idstr, long recordOffset) throws IOException;
    }

    private final Lookup<B> lookup;
    private B last;

    public RecordBlocks(Lookup<B> lookup) {
        this.lookup = lookup;
    }

    /** Reads the block of the record with {@code flags} at {@code at}. */
    public B read(MigrationInput in, int flags, long at) throws IOException {
        if ((flags & RamFlags.CONTINUE) != 0) {
            if (last == null) {
                throw new MigrationStreamException("ram: record with CONTINUE (flags 0x" + Integer.toHexString(flags)
                        + ") before any block was named", at);
            }
            return last;
        }
        B b = lookup.find(in.getCountedString(), at);
        last = b;
        return b;
    }
}
