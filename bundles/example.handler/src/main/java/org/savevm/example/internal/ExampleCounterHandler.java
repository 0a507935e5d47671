package org.savevm.example.internal;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationSettings;
import org.savevm.api.PendingBytes;
import org.savevm.api.SectionRegistration;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * A handler a user can drop into a running savevm (deploy/ directory) to see it join the registry: section
 * "example", automatic instance id. Its state is one counter, bumped at each save; the START and END
 * section bodies each carry the counter as a big-endian 64-bit value, and loading restores it.
 */
@Component(service = LiveStateHandler.class)
public final class ExampleCounterHandler implements LiveStateHandler {
    static final String IDSTR = "example";
    static final int VERSION = 1;

    private final AtomicLong counter = new AtomicLong();

    @Override
    public SectionRegistration registration() {
        return SectionRegistration.builder(IDSTR).autoInstance().version(VERSION).build();
    }

    long counter() {
        return counter.get();
    }

    @Override
    public SaveSession beginSave(MigrationSettings settings) {
        long value = counter.incrementAndGet();
        return new SaveSession() {
            @Override
            public void setup(MigrationOutput out) {
                out.putBe64(value);
            }

            @Override
            public boolean iterate(MigrationOutput out) {
                return true;
            }

            @Override
            public PendingBytes pending(boolean exact) {
                return PendingBytes.NONE;
            }

            @Override
            public void completePrecopy(MigrationOutput out) {
                out.putBe64(value);
            }
        };
    }

    @Override
    public LoadSession beginLoad(MigrationSettings settings) {
        return (MigrationInput in, int version) -> {
            if (version != VERSION) {
                throw new MigrationStreamException("section '" + IDSTR + "': unsupported version " + version
                        + " (this handler reads version " + VERSION + ")", in.position());
            }
            counter.set(in.getBe64());
        };
    }
}
