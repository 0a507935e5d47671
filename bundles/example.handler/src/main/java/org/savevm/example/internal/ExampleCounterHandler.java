package org.savevm.example.internal;

import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.PendingBytes;
import org.savevm.api.SectionRegistration;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * A handler a user can drop into a running savevm (deploy/ directory) to see it join the registry: section
 * "example", automatic instance id. Its state is one counter, bumped at each save. Every section body
 * starts with a tag byte, because the loader is not told whether a body is START, PART or END: tag 1 is
 * followed by the counter as a big-endian 64-bit value (START and END), tag 0 by nothing (PART).
 */
@Component(service = LiveStateHandler.class)
public final class ExampleCounterHandler implements LiveStateHandler {
    static final String IDSTR = "example";
    static final int VERSION = 1;
    static final int TAG_EMPTY = 0;
    static final int TAG_COUNTER = 1;

    private final AtomicLong counter = new AtomicLong();

    @Override
    public SectionRegistration registration() {
        return SectionRegistration.builder(IDSTR).autoInstance().version(VERSION).build();
    }

    long counter() {
        return counter.get();
    }

    @Override
    public SaveSession beginSave(MigrationContext context) {
        long value = counter.incrementAndGet();
        return new SaveSession() {
            @Override
            public void setup(MigrationOutput out) {
                out.putByte(TAG_COUNTER);
                out.putBe64(value);
            }

            @Override
            public boolean iterate(MigrationOutput out) {
                out.putByte(TAG_EMPTY);
                return true;
            }

            @Override
            public PendingBytes pending(boolean exact) {
                return PendingBytes.NONE;
            }

            @Override
            public void completePrecopy(MigrationOutput out) {
                out.putByte(TAG_COUNTER);
                out.putBe64(value);
            }
        };
    }

    @Override
    public LoadSession beginLoad(MigrationContext context) {
        return (MigrationInput in, int version) -> {
            if (version != VERSION) {
                throw new MigrationStreamException("section '" + IDSTR + "': unsupported version " + version
                        + " (this handler reads version " + VERSION + ")", in.position());
            }
            int tag = in.getByte();
            if (tag == TAG_COUNTER) {
                counter.set(in.getBe64());
            } else if (tag != TAG_EMPTY) {
                throw new MigrationStreamException("section '" + IDSTR + "': unknown tag " + tag, in.position() - 1);
            }
        };
    }
}
