package org.savevm.device.serial.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.VMStateException;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.testing.ManualClock;
import org.savevm.vmstate.internal.VMStateEngineComponent;
import org.savevm.vmstate.internal.VMStateLimits;

class SerialDeviceTest {
    private static final String RESET_BODY = "000c000001000860b00000";
    private final VMStateEngineComponent engine = new VMStateEngineComponent(VMStateLimits.DEFAULT);

    private String save(SerialDevice d) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bos);
        engine.save(out, d.description(), d.state(), null);
        out.flush();
        return HexFormat.of().formatHex(bos.toByteArray());
    }

    private static String sub(String name, String body) {
        return "05" + String.format("%02x", name.length()) + HexFormat.of().formatHex(name.getBytes()) + "00000001"
                + body;
    }

    private SerialDevice loadInto(String hex) throws IOException {
        SerialDevice d = new SerialDevice();
        SerialState copy = d.copyOfState();
        MigrationInput in = MigrationInput.of(HexFormat.of().parseHex(hex));
        engine.load(in, d.description(), copy, 3);
        assertEquals(hex.length() / 2, in.position());
        d.commit(copy);
        return d;
    }

    @Test
    void registersProgrammedByTheGuestMigrate() throws IOException {
        SerialDevice d = new SerialDevice();
        d.writePort(3, 0x83); // DLAB
        d.writePort(0, 0x01); // 115200 baud
        d.writePort(1, 0x00);
        d.writePort(3, 0x03); // 8N1
        d.writePort(7, 0x42);
        assertEquals("0001" + "00" + "00" + "01" + "03" + "08" + "60" + "b0" + "42" + "00", save(d));
        assertEquals(1, loadInto(save(d)).state().divider());
    }

    @Test
    void receiveFifoTravelsInItsSubsection() throws IOException {
        SerialDevice d = new SerialDevice();
        d.writePort(2, 0x01); // FIFO on (resets both FIFOs)
        d.receive('h');
        d.receive('i');
        String fifo = HexFormat.of().formatHex("hi".getBytes()) + "00".repeat(14) + "00000000" + "00000002";
        // iir = 0xc1 (FIFO enabled, no interrupt), lsr = 0x61 (data ready), fcr_vmstate = 0x01
        assertEquals("000c" + "00" + "00" + "c1" + "00" + "08" + "61" + "b0" + "00" + "01"
                + sub("serial/recv_fifo", fifo), save(d));
        SerialDevice t = loadInto(save(d));
        assertEquals(2, t.state().receivedBytes());
        assertEquals(1, t.state().fcr());
        assertEquals('h', t.readPort(0));
        assertEquals('i', t.readPort(0));
        assertEquals(0x60, t.state().lsr() & 0x61, "data ready cleared once the FIFO is empty");
    }

    @Test
    void transmitInterruptPendingHiddenBehindReceiveTravelsInItsSubsection() throws IOException {
        SerialDevice d = new SerialDevice();
        d.writePort(1, 0x03); // RDI and THRI enabled: THRI pending
        assertEquals(0x02, d.state().iir() & 0x0f);
        assertEquals("000c0003020008" + "60b00000", save(d), "IIR shows THRI: thr_ipending is implied");
        d.receive('x'); // RDI outranks THRI in IIR; the pending THRI must be carried explicitly
        String withSub = save(d);
        assertEquals("000c" + "78" + "03" + "04" + "00" + "08" + "61" + "b0" + "00" + "00"
                + sub("serial/thr_ipending", "00000001"), withSub);
        SerialDevice t = loadInto(withSub);
        assertEquals('x', t.readPort(0));
        assertEquals(0x02, t.state().iir() & 0x0f, "THRI surfaces once the byte is read");
        assertTrue(t.irqRaised());
    }

    @Test
    void inconsistentTransmitterStateIsRefusedAndNothingApplied() throws IOException {
        SerialDevice d = new SerialDevice();
        d.writePort(7, 0x11);
        SerialState copy = d.copyOfState();
        // lsr 0x20: transmitter not empty but no tsr subsection (tsr_retry = 0)
        byte[] body = HexFormat.of().parseHex("000c000001000820b00000");
        VMStateException e = assertThrows(VMStateException.class,
                () -> engine.load(MigrationInput.of(body), d.description(), copy, 3));
        assertTrue(e.getMessage().contains("inconsistent state in serial device (tsr not empty, tsr_retry=0)"),
                e.getMessage());
        assertEquals(0x11, d.state().scr(), "the device keeps its state");
    }

    @Test
    void fifoHeadBeyondCapacityIsRefused() {
        SerialDevice d = new SerialDevice();
        String fifo = "00".repeat(16) + "00000010" + "00000001"; // head 16 of 16
        byte[] body = HexFormat.of().parseHex(RESET_BODY + sub("serial/recv_fifo", fifo));
        VMStateException e = assertThrows(VMStateException.class,
                () -> engine.load(MigrationInput.of(body), d.description(), d.copyOfState(), 3));
        assertTrue(e.getMessage().contains("inconsistent fifo: head 16"), e.getMessage());
    }

    @Test
    void nestedStructLoadsAtItsLocalVersionWhateverTheSectionVersion() throws IOException {
        // QEMU loads the isa-serial "state" struct at vmstate_serial's own version 3, so even a version-2
        // section carries (and a load reads) the fcr_vmstate byte
        SerialDevice d = new SerialDevice();
        SerialState copy = d.copyOfState();
        MigrationInput in = MigrationInput.of(HexFormat.of().parseHex("000c000001000860b000" + "01"));
        engine.load(in, d.description(), copy, 2);
        assertEquals(11, in.position());
        d.commit(copy);
        assertEquals(1, d.state().fcr());
        VMStateException old = assertThrows(VMStateException.class, () -> engine.load(
                MigrationInput.of(HexFormat.of().parseHex(RESET_BODY)), d.description(), d.copyOfState(), 1));
        assertTrue(old.getMessage().contains("too old"), old.getMessage());
    }

    @Test
    void unknownSerialSubsectionIsRefused() {
        SerialDevice d = new SerialDevice();
        byte[] body = HexFormat.of().parseHex(RESET_BODY + sub("serial/bogus", "00"));
        VMStateException e = assertThrows(VMStateException.class,
                () -> engine.load(MigrationInput.of(body), d.description(), d.copyOfState(), 3));
        assertTrue(e.getMessage().contains("unknown subsection 'serial/bogus'"), e.getMessage());
    }

    @Test
    void fifoTimeoutRunsOnTheClockAndItsStateMigrates() throws IOException {
        ManualClock clock = new ManualClock(1000);
        SerialDevice d = new SerialDevice();
        d.bindClock(clock);
        d.writePort(2, 0xc1); // FIFO on, trigger level 14: one byte waits for the timeout
        d.writePort(1, 0x01); // RDI
        d.receive('z');
        long expiry = 1000 + 4 * (1_000_000_000L / 9600 * 10);
        String fifo = "7a" + "00".repeat(15) + "00000000" + "00000001";
        String armed = save(d);
        assertEquals("000c" + "00" + "01" + "c1" + "00" + "08" + "61" + "b0" + "00" + "c1"
                + sub("serial/recv_fifo", fifo)
                + sub("serial/fifo_timeout_timer", String.format("%016x", expiry)), armed);
        SerialDevice t = loadInto(armed);
        assertEquals(expiry, t.state().fifoTimeoutTimer.expireTimeNs(), "the copy's timer expiry is committed");

        clock.advance(expiry);
        assertTrue(d.irqRaised(), "character timeout interrupt");
        assertEquals("000c" + "00" + "01" + "cc" + "00" + "08" + "61" + "b0" + "00" + "c1"
                + sub("serial/recv_fifo", fifo) + sub("serial/timeout_ipending", "00000001"), save(d));
        d.unbindClock(clock);
        assertEquals(-1, d.state().fifoTimeoutTimer.expireTimeNs());
    }

    @Test
    void registeredLikeQemusIsaSerial() {
        org.savevm.api.SectionRegistration r = new SerialDevice(java.util.Map.of("serial.index", 1)).registration();
        assertEquals("serial", r.fullIdstr());
        assertEquals(org.savevm.api.SectionRegistration.AUTO, r.instanceId());
        assertEquals(0x2f8, r.aliasId());
        assertEquals(3, r.requiredForVersion());
        assertEquals(3, r.version());
        assertThrows(IllegalArgumentException.class, () -> new SerialDevice(java.util.Map.of("serial.index", 4)));
    }
}
