package org.savevm.example.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

import org.junit.jupiter.api.Test;
import org.savevm.api.SectionRegistration;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.vmstate.internal.VMStateEngineComponent;
import org.savevm.vmstate.internal.VMStateLimits;

class ExampleDeviceTest {
    private final VMStateEngineComponent engine = new VMStateEngineComponent(VMStateLimits.DEFAULT);

    @Test
    void descriptorSavesCounterThenTicksBigEndianAndLoadsThroughCommit() throws IOException {
        ExampleDevice source = new ExampleDevice();
        source.tick();
        source.tick();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bytes);
        engine.save(out, source.description(), source.state(), null);
        out.flush();
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 20}, bytes.toByteArray());

        ExampleDevice dest = new ExampleDevice();
        ExampleDeviceState copy = dest.copyOfState();
        engine.load(MigrationInput.of(bytes.toByteArray()), dest.description(), copy, 1);
        assertEquals(0, dest.state().counter, "nothing applied before commit");
        dest.commit(copy);
        assertEquals(2, dest.state().counter);
        assertEquals(20, dest.state().ticks);
    }

    @Test
    void truncatedBodyFails() {
        ExampleDevice d = new ExampleDevice();
        assertThrows(IOException.class,
                () -> engine.load(MigrationInput.of(new byte[10]), d.description(), d.copyOfState(), 1));
    }

    @Test
    void registersAsExampleDeviceWithAutoInstance() {
        SectionRegistration r = new ExampleDevice().registration();
        assertEquals("example-device", r.fullIdstr());
        assertEquals(SectionRegistration.AUTO, r.instanceId());
    }
}
