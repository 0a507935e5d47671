package org.savevm.core.testing;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.SectionRegistration;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * Reads QEMU 7.2 "ram" section bodies record by record without keeping the pages (the real handler
 * lives in the ram bundle): enough to walk corpus streams. Records the MEM_SIZE block list and counts.
 */
public final class SkippingRamHandler implements LiveStateHandler {
    public final Map<String, Long> blocks = new LinkedHashMap<>();
    public long zeroPages;
    public long normalPages;
    public int chunks;
    public boolean completed;

    @Override
    public SectionRegistration registration() {
        return SectionRegistration.builder("ram").version(4).build();
    }

    @Override
    public SaveSession beginSave(MigrationContext context) {
        throw new UnsupportedOperationException("load only");
    }

    @Override
    public LoadSession beginLoad(MigrationContext context) {
        return new LoadSession() {
            @Override
            public void load(MigrationInput in, int version) throws IOException {
                if (version != 4) {
                    throw new MigrationStreamException("ram: version " + version, in.position());
                }
                chunks++;
                while (true) {
                    long at = in.position();
                    long v = in.getBe64();
                    int flags = (int) (v & 0xfff);
                    long addr = v & ~0xfffL;
                    if ((flags & 0x04) != 0) {
                        long total = addr;
                        long seen = 0;
                        while (seen < total) {
                            String name = in.getCountedString();
                            long len = in.getBe64();
                            blocks.put(name, len);
                            seen += len;
                        }
                    }
                    if ((flags & (0x02 | 0x08 | 0x40 | 0x100)) != 0 && (flags & 0x20) == 0) {
                        in.getCountedString();
                    }
                    if ((flags & 0x02) != 0) {
                        in.getByte();
                        zeroPages++;
                    } else if ((flags & 0x08) != 0) {
                        in.skip(4096);
                        normalPages++;
                    } else if ((flags & 0x40) != 0) {
                        in.getByte();
                        in.skip(in.getBe16());
                    } else if ((flags & 0x100) != 0) {
                        in.skip(Integer.toUnsignedLong(in.getBe32()));
                    } else if ((flags & ~(0x10 | 0x04)) != 0) {
                        throw new MigrationStreamException("ram: unknown flags 0x" + Integer.toHexString(flags), at);
                    }
                    if ((flags & 0x10) != 0) {
                        return;
                    }
                }
            }

            @Override
            public void complete() {
                completed = true;
            }
        };
    }
}
