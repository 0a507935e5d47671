package org.savevm.example.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

import org.junit.jupiter.api.Test;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.SectionRegistration;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

class ExampleCounterHandlerTest {

    @Test
    void registersAsExampleWithAutoInstance() {
        SectionRegistration r = new ExampleCounterHandler().registration();
        assertEquals("example", r.fullIdstr());
        assertEquals(SectionRegistration.AUTO, r.instanceId());
        assertEquals(null, r.validate());
    }

    @Test
    void startAndEndBodiesCarryTheCounterAndLoadRestoresIt() throws IOException {
        ExampleCounterHandler source = new ExampleCounterHandler();
        source.beginSave(null).close();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bytes);
        try (LiveStateHandler.SaveSession s = source.beginSave(null)) {
            s.setup(out);
            s.iterate(out);
            s.completePrecopy(out);
        }
        out.flush();
        assertArrayEquals(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2}, bytes.toByteArray());

        ExampleCounterHandler dest = new ExampleCounterHandler();
        MigrationInput in = MigrationInput.of(bytes.toByteArray());
        try (LiveStateHandler.LoadSession l = dest.beginLoad(null)) {
            l.load(in, 1);
            l.load(in, 1);
            l.load(in, 1);
            assertEquals(true, in.atEnd());
        }
        assertEquals(2, dest.counter());
    }

    @Test
    void refusesOtherVersionsAndTruncatedBodies() {
        ExampleCounterHandler h = new ExampleCounterHandler();
        LiveStateHandler.LoadSession l = h.beginLoad((MigrationContext) null);
        MigrationStreamException e = assertThrows(MigrationStreamException.class, () -> l.load(MigrationInput.of(new byte[8]), 2));
        assertEquals(true, e.getMessage().contains("unsupported version 2"), e.getMessage());
        assertThrows(IOException.class, () -> l.load(MigrationInput.of(new byte[] {1, 0, 0}), 1));
        MigrationStreamException tag = assertThrows(MigrationStreamException.class, () -> l.load(MigrationInput.of(new byte[] {7}), 1));
        assertEquals(true, tag.getMessage().contains("unknown tag 7"), tag.getMessage());
    }
}
