package org.savevm.core.testing;

import java.util.Map;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.PendingBytes;
import org.savevm.api.SectionRegistration;
import org.savevm.stream.MigrationOutput;

/**
 * A "ram" handler that sends only QEMU's RAMBlock list (MEM_SIZE) and end-of-section markers, no
 * pages: the destination keeps its own (zero) memory. Enough for QEMU to accept a stream whose device
 * sections are the point of the test.
 */
public final class RamLayoutReplayHandler implements LiveStateHandler {
    private static final long MEM_SIZE = 0x04;
    private static final long EOS = 0x10;
    private final Map<String, Long> blocks;

    public RamLayoutReplayHandler(Map<String, Long> blocks) {
        this.blocks = blocks;
    }

    @Override
    public SectionRegistration registration() {
        return SectionRegistration.builder("ram").version(4).build();
    }

    @Override
    public SaveSession beginSave(MigrationContext context) {
        return new SaveSession() {
            @Override
            public void setup(MigrationOutput out) {
                long total = blocks.values().stream().mapToLong(Long::longValue).sum();
                out.putBe64(total | MEM_SIZE);
                blocks.forEach((name, len) -> {
                    out.putCountedString(name);
                    out.putBe64(len);
                });
                out.putBe64(EOS);
            }

            @Override
            public boolean iterate(MigrationOutput out) {
                out.putBe64(EOS);
                return true;
            }

            @Override
            public PendingBytes pending(boolean exact) {
                return PendingBytes.NONE;
            }

            @Override
            public void completePrecopy(MigrationOutput out) {
                out.putBe64(EOS);
            }
        };
    }

    @Override
    public LoadSession beginLoad(MigrationContext context) {
        throw new UnsupportedOperationException("save only");
    }
}
