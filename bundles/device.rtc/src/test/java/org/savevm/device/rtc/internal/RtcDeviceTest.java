package org.savevm.device.rtc.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.VMStateException;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.testing.CorpusSection;
import org.savevm.testing.CorpusStreams;
import org.savevm.testing.ManualClock;
import org.savevm.vmstate.internal.VMStateEngineComponent;
import org.savevm.vmstate.internal.VMStateLimits;

class RtcDeviceTest {
    private static final long NOV_22_2026_19_03_49 = 1795374229L;
    private final VMStateEngineComponent engine = new VMStateEngineComponent(VMStateLimits.DEFAULT);

    private byte[] save(RtcDevice d, StringBuilder vmdesc) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bos);
        engine.save(out, d.description(), d.state(), vmdesc);
        out.flush();
        return bos.toByteArray();
    }

    @Test
    void qemuSectionRoundTripsByteExact() throws IOException {
        byte[] stream = CorpusStreams.bytes(CorpusStreams.PAUSED_16M);
        CorpusSection sec = CorpusSection.find(stream, "mc146818rtc", 0);
        assertEquals(245, sec.bodyLength());
        RtcDevice device = new RtcDevice(0);
        RtcState copy = device.copyOfState();
        MigrationInput in = MigrationInput.of(sec.body(stream));
        engine.load(in, device.description(), copy, sec.version());
        assertEquals(sec.bodyLength(), in.position());
        assertEquals(0, device.state().baseRtc(), "nothing applied before commit");
        device.commit(copy);
        assertEquals(1795374198L, device.state().baseRtc());
        assertEquals(-1, device.state().periodicTimer().expireTimeNs());
        assertEquals(1795374199077611000L, device.state().updateTimer().expireTimeNs());
        assertEquals(0x7e, stream[sec.bodyOffset() + sec.bodyLength()] & 0xff);

        StringBuilder vmdesc = new StringBuilder();
        assertEquals(HexFormat.of().formatHex(sec.body(stream)), HexFormat.of().formatHex(save(device, vmdesc)));
        assertEquals(sec.vmdescMembers(), vmdesc.toString());
    }

    @Test
    void timeRegistersReadInBcd() {
        RtcDevice d = new RtcDevice(NOV_22_2026_19_03_49);
        int[] expected = {0x49, 0, 0x03, 0, 0x19, 0, 0x01, 0x22, 0x11, 0x26};
        for (int i : new int[] {0, 2, 4, 6, 7, 8, 9}) {
            d.writeIndex(i);
            assertEquals(expected[i], d.readData(), "register " + i);
        }
    }

    @Test
    void periodicTimerRunsOnTheVirtualClockAndMigrates() throws IOException {
        ManualClock clock = new ManualClock(1_000_000);
        RtcDevice d = new RtcDevice(NOV_22_2026_19_03_49);
        d.bindClock(clock);
        d.writeIndex(Mc146818.REG_A);
        d.writeData(0x26); // rate 6: 1024 Hz, 32 ticks of 32 kHz
        d.writeIndex(Mc146818.REG_B);
        d.writeData(Mc146818.REG_B_24H | Mc146818.REG_B_PIE);
        assertEquals(32, d.state().period());
        long expiry = d.state().periodicTimer().expireTimeNs();
        assertEquals(1_000_000 + 976_562, expiry);
        clock.advance(1_000_000);
        d.writeIndex(Mc146818.REG_C);
        assertEquals(Mc146818.REG_C_IRQF | Mc146818.REG_C_PF, d.readData());
        assertEquals(0, d.readData(), "reading C acknowledged the flags");
        assertEquals(1_000_000 + 2 * 976_562, d.state().periodicTimer().expireTimeNs());

        clock.advance(3_000_000_000L);
        assertEquals(NOV_22_2026_19_03_49 + 3, d.guestSeconds());

        byte[] saved = save(d, null);
        RtcDevice target = new RtcDevice(0);
        ManualClock targetClock = new ManualClock(clock.nowNs()); // the "timer" section carries the clock
        target.bindClock(targetClock);
        RtcState copy = target.copyOfState();
        engine.load(MigrationInput.of(saved), target.description(), copy, 3);
        target.commit(copy);
        assertEquals(d.state().periodicTimer().expireTimeNs(), target.state().periodicTimer().expireTimeNs());
        assertEquals(32, target.state().period());
        assertArrayEquals(saved, save(target, null));
    }

    @Test
    void irqReinjectSubsectionOnlyWhenNeeded() throws IOException {
        RtcDevice d = new RtcDevice(NOV_22_2026_19_03_49);
        byte[] plain = save(d, null);
        assertEquals(245, plain.length);
        d.state().irqReinjectOnAckCount = 0x1234;
        StringBuilder vmdesc = new StringBuilder();
        byte[] with = save(d, vmdesc);
        String name = "mc146818rtc/irq_reinject_on_ack_count";
        assertEquals(HexFormat.of().formatHex(plain) + "05" + String.format("%02x", name.length())
                + HexFormat.of().formatHex(name.getBytes()) + "00000001" + "1234", HexFormat.of().formatHex(with));
        assertTrue(vmdesc.toString().endsWith(", \"subsections\": [{\"vmsd_name\": \"" + name
                + "\", \"version\": 1, \"fields\": [{\"name\": \"irq_reinject_on_ack_count\", \"type\": \"uint16\","
                + " \"size\": 2}]}]"), vmdesc.toString());
        RtcDevice t = new RtcDevice(0);
        RtcState copy = t.copyOfState();
        engine.load(MigrationInput.of(with), t.description(), copy, 3);
        assertEquals(0x1234, copy.irqReinjectOnAckCount);
    }

    @Test
    void failedLoadsLeaveTheDeviceUntouched() throws IOException {
        RtcDevice source = new RtcDevice(NOV_22_2026_19_03_49);
        byte[] saved = save(source, null);
        RtcDevice target = new RtcDevice(42);
        byte[] before = save(target, null);

        // truncated in the middle of base_rtc
        RtcState copy = target.copyOfState();
        VMStateException cut = assertThrows(VMStateException.class, () -> engine.load(
                MigrationInput.of(Arrays.copyOf(saved, 210)), target.description(), copy, 3));
        assertEquals("base_rtc", cut.field());
        assertEquals(205, cut.offset());
        // a subsection we do not know, with our prefix
        byte[] bad = Arrays.copyOf(saved, saved.length + 2 + 15 + 4);
        bad[saved.length] = 5;
        bad[saved.length + 1] = 15;
        System.arraycopy("mc146818rtc/xyz".getBytes(), 0, bad, saved.length + 2, 15);
        VMStateException unknown = assertThrows(VMStateException.class,
                () -> engine.load(MigrationInput.of(bad), target.description(), target.copyOfState(), 3));
        assertTrue(unknown.getMessage().contains("unknown subsection 'mc146818rtc/xyz'"), unknown.getMessage());
        assertThrows(VMStateException.class,
                () -> engine.load(MigrationInput.of(saved), target.description(), target.copyOfState(), 4));
        assertArrayEquals(before, save(target, null));
    }

    @Test
    void version1StreamSetsTimeFromCmos() throws IOException {
        RtcDevice source = new RtcDevice(NOV_22_2026_19_03_49);
        byte[] v3 = save(source, null);
        byte[] v1 = Arrays.copyOf(v3, 128 + 1 + 28 + 8 + 8 + 24); // fields of version 1 only
        RtcDevice t = new RtcDevice(0);
        RtcState copy = t.copyOfState();
        MigrationInput in = MigrationInput.of(v1);
        engine.load(in, t.description(), copy, 1);
        assertEquals(v1.length, in.position());
        t.commit(copy);
        assertEquals(NOV_22_2026_19_03_49, t.guestSeconds());
    }
}
