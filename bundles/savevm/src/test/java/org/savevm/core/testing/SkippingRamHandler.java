package org.savevm.core.testing;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.SectionRegistration;
import org.savevm.api.machine.RamBlock;
import org.savevm.ram.codec.PageCompression;
import org.savevm.ram.codec.RamFlags;
import org.savevm.ram.codec.XbzrleDecoder;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * Reads QEMU 7.2 "ram" section bodies record by record through the ram bundle's codec without keeping
 * the pages (the real handler needs a machine): enough to load corpus streams. Records the MEM_SIZE
 * block list and counts.
 */
public final class SkippingRamHandler implements LiveStateHandler {
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;
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
                if (version != RamFlags.VERSION) {
                    throw new MigrationStreamException("ram: version " + version, in.position());
                }
                chunks++;
                while (true) {
                    long at = in.position();
                    long v = in.getBe64();
                    int flags = RamFlags.flags(v, PAGE);
                    if ((flags & RamFlags.MEM_SIZE) != 0) {
                        long total = RamFlags.offset(v, PAGE);
                        long seen = 0;
                        while (seen < total) {
                            String name = in.getCountedString();
                            long len = in.getBe64();
                            blocks.put(name, len);
                            seen += len;
                        }
                    }
                    if ((flags & RamFlags.PAGE_KINDS) != 0 && (flags & RamFlags.CONTINUE) == 0) {
                        in.getCountedString();
                    }
                    if ((flags & RamFlags.ZERO) != 0) {
                        in.getByte();
                        zeroPages++;
                    } else if ((flags & RamFlags.PAGE) != 0) {
                        in.skip(PAGE);
                        normalPages++;
                    } else if ((flags & RamFlags.XBZRLE) != 0) {
                        in.skip(XbzrleDecoder.readLength(in, at, PAGE));
                    } else if ((flags & RamFlags.COMPRESS_PAGE) != 0) {
                        in.skip(PageCompression.readLength(in, at, PageCompression.MAX_COMPRESSED));
                    } else if ((flags & ~(RamFlags.EOS | RamFlags.MEM_SIZE)) != 0) {
                        throw new MigrationStreamException("ram: unknown flags 0x" + Integer.toHexString(flags), at);
                    }
                    if ((flags & RamFlags.EOS) != 0) {
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
