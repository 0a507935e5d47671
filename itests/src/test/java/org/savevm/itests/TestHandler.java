package org.savevm.itests;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.PendingBytes;
import org.savevm.api.SectionRegistration;
import org.savevm.stream.MigrationOutput;

/** A handler registered by a test with whatever registration the test needs; it writes no body. */
final class TestHandler implements LiveStateHandler {
    private final SectionRegistration registration;

    TestHandler(SectionRegistration registration) {
        this.registration = registration;
    }

    @Override
    public SectionRegistration registration() {
        return registration;
    }

    @Override
    public SaveSession beginSave(MigrationContext context) {
        return new SaveSession() {
            @Override
            public void setup(MigrationOutput out) {
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
            }
        };
    }

    @Override
    public LoadSession beginLoad(MigrationContext context) {
        return (in, version) -> {
        };
    }
}
