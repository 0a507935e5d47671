package org.savevm.core.testing;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.SectionRegistration;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/** Walks QEMU 7.2 "block" section records without keeping the data (the block bundle owns the real one). */
public final class SkippingBlockHandler implements LiveStateHandler {
    public int deviceBlocks;
    public int zeroBlocks;
    public int lastProgress = -1;

    @Override
    public SectionRegistration registration() {
        return SectionRegistration.builder("block").version(1).build();
    }

    @Override
    public SaveSession beginSave(MigrationContext context) {
        throw new UnsupportedOperationException("load only");
    }

    @Override
    public LoadSession beginLoad(MigrationContext context) {
        return (MigrationInput in, int version) -> {
            while (true) {
                long at = in.position();
                long v = in.getBe64();
                int flags = (int) (v & 0x1ff);
                if ((flags & 0x01) != 0) {
                    in.getCountedString();
                    if ((flags & 0x08) != 0) {
                        zeroBlocks++;
                    } else {
                        in.skip(1 << 20);
                        deviceBlocks++;
                    }
                } else if ((flags & 0x04) != 0) {
                    lastProgress = (int) (v >>> 9);
                } else if ((flags & 0x02) == 0) {
                    throw new MigrationStreamException("block: unknown flags 0x" + Integer.toHexString(flags), at);
                }
                if ((flags & 0x02) != 0) {
                    return;
                }
            }
        };
    }
}
