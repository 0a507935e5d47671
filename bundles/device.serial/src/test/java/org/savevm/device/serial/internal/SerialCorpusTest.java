package org.savevm.device.serial.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.testing.CorpusSection;
import org.savevm.testing.CorpusStreams;
import org.savevm.vmstate.internal.VMStateEngineComponent;
import org.savevm.vmstate.internal.VMStateLimits;

/** Both "serial" sections of QEMU 7.2's serial-16M.mig decode and re-encode byte for byte. */
class SerialCorpusTest {
    private final VMStateEngineComponent engine = new VMStateEngineComponent(VMStateLimits.DEFAULT);

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void qemuSectionRoundTripsByteExact(int instance) throws IOException {
        byte[] stream = CorpusStreams.bytes(CorpusStreams.SERIAL_16M);
        CorpusSection sec = CorpusSection.find(stream, "serial", instance);
        assertEquals(11, sec.bodyLength());

        SerialDevice device = new SerialDevice();
        device.writePort(7, 0x5a); // differs from the stream: the load must overwrite it
        SerialState copy = device.copyOfState();
        MigrationInput in = MigrationInput.of(sec.body(stream));
        engine.load(in, device.description(), copy, sec.version());
        assertEquals(sec.bodyLength(), in.position());
        assertEquals(0x5a, device.state().scr(), "nothing applied before commit");
        device.commit(copy);
        assertEquals(0x0c, device.state().divider());
        assertEquals(0x60, device.state().lsr());
        assertEquals(0, device.state().scr());
        // the stream continues with the section footer of this section id
        assertEquals(0x7e, stream[sec.bodyOffset() + sec.bodyLength()] & 0xff);

        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bos);
        StringBuilder vmdesc = new StringBuilder();
        engine.save(out, device.description(), device.state(), vmdesc);
        out.flush();
        assertEquals(HexFormat.of().formatHex(sec.body(stream)), HexFormat.of().formatHex(bos.toByteArray()));
        assertEquals(sec.vmdescMembers(), vmdesc.toString());
    }

    @ParameterizedTest
    @ValueSource(ints = {0})
    void freshDeviceSavesQemuResetBytes(int instance) throws IOException {
        byte[] stream = CorpusStreams.bytes(CorpusStreams.SERIAL_16M);
        CorpusSection sec = CorpusSection.find(stream, "serial", instance);
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bos);
        SerialDevice device = new SerialDevice();
        engine.save(out, device.description(), device.state(), null);
        out.flush();
        assertArrayEquals(sec.body(stream), bos.toByteArray());
    }
}
