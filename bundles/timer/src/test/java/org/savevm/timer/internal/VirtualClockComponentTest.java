package org.savevm.timer.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.savevm.api.GuestTimer;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.testing.CorpusStreams;
import org.savevm.vmstate.internal.VMStateEngineComponent;

class VirtualClockComponentTest {
    final VMStateEngine engine = new VMStateEngineComponent(Map.of());
    final AtomicLong host = new AtomicLong(1_000_000);
    VirtualClockComponent clock;
    VirtualClockComponent other;

    @AfterEach
    void tearDown() throws InterruptedException {
        for (VirtualClockComponent c : new VirtualClockComponent[] { clock, other }) {
            if (c != null) {
                c.deactivate();
            }
        }
    }

    static byte[] corpus() throws IOException {
        return CorpusStreams.bytes(CorpusStreams.PAUSED_16M);
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer: for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    /** Body of the FULL "timer" section of the corpus stream: between the header and the footer. */
    static byte[] corpusTimerBody(byte[] s) {
        byte[] header = { 4, 0, 0, 0, 0, 5, 't', 'i', 'm', 'e', 'r', 0, 0, 0, 0, 0, 0, 0, 2 };
        int start = indexOf(s, header) + header.length;
        int footer = indexOf(java.util.Arrays.copyOfRange(s, start, s.length), new byte[] { 0x7e, 0, 0, 0, 0 });
        return java.util.Arrays.copyOfRange(s, start, start + footer);
    }

    /** The members QEMU wrote for "timer" in the corpus vmdesc, i.e. the entry without name and instance_id. */
    static String corpusTimerVmdescMembers(byte[] s) {
        String text = new String(s, StandardCharsets.ISO_8859_1);
        String prefix = "{\"name\": \"timer\", \"instance_id\": 0, ";
        int from = text.indexOf(prefix) + prefix.length();
        int depth = 1;
        int i = from;
        for (; depth > 0; i++) {
            char c = text.charAt(i);
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            }
        }
        return text.substring(from, i - 1);
    }

    byte[] save(VirtualClockComponent c, StringBuilder vmdesc) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(b)) {
            engine.save(out, c.description(), c.state(), vmdesc);
        }
        return b.toByteArray();
    }

    void load(VirtualClockComponent c, byte[] body, int version) throws IOException {
        TimersState copy = c.copyOfState();
        MigrationInput in = MigrationInput.of(body);
        engine.load(in, c.description(), copy, version);
        assertTrue(in.atEnd());
        c.commit(copy);
    }

    @Test
    void neverStartedClockWritesQemusBytesAndVmdesc() throws IOException {
        byte[] s = corpus();
        clock = new VirtualClockComponent(Map.of());
        StringBuilder vmdesc = new StringBuilder();
        assertArrayEquals(corpusTimerBody(s), save(clock, vmdesc));
        assertEquals(corpusTimerVmdescMembers(s), vmdesc.toString());
        assertEquals("timer", clock.registration().fullIdstr());
        assertEquals(0, clock.registration().instanceId());
        assertEquals(2, clock.registration().version());
    }

    @Test
    void clockAdvancesOnlyWhileRunningAndSavesItsValue() throws IOException {
        clock = new VirtualClockComponent(host::get, false);
        host.addAndGet(777);
        assertEquals(0, clock.nowNs());
        clock.start();
        host.addAndGet(5_000);
        assertEquals(5_000, clock.nowNs());
        clock.stop();
        host.addAndGet(9_999);
        assertEquals(5_000, clock.nowNs());
        assertEquals(5_000, clock.ticks());
        clock.start();
        host.addAndGet(1_000);
        clock.stop();
        assertEquals(6_000, clock.nowNs());
        ByteBuffer want = ByteBuffer.allocate(24).putLong(6_000).putLong(0).putLong(6_000);
        assertArrayEquals(want.array(), save(clock, null));
    }

    @Test
    void loadedClockContinuesFromTheSavedValue() throws IOException {
        clock = new VirtualClockComponent(host::get, true);
        host.addAndGet(123_456);
        clock.stop();
        byte[] body = save(clock, null);
        other = new VirtualClockComponent(host::get, false);
        load(other, body, 2);
        assertEquals(123_456, other.nowNs());
        other.start();
        host.addAndGet(44);
        assertEquals(123_500, other.nowNs());
    }

    @Test
    void version1StreamHasNoClockOffset() throws IOException {
        clock = new VirtualClockComponent(host::get, false);
        byte[] v1 = ByteBuffer.allocate(16).putLong(99).putLong(0).array();
        load(clock, v1, 1);
        assertEquals(99, clock.ticks());
        assertEquals(0, clock.nowNs());
        assertThrows(IOException.class, () -> load(clock, v1, 3));
    }

    @Test
    void icountSubsectionFromAnIcountSourceLoads() throws IOException {
        clock = new VirtualClockComponent(host::get, false);
        ByteBuffer b = ByteBuffer.allocate(24 + 2 + 12 + 4 + 16);
        b.putLong(1).putLong(0).putLong(2);
        b.put((byte) 5).put((byte) 12).put("timer/icount".getBytes(StandardCharsets.US_ASCII)).putInt(1);
        b.putLong(7).putLong(8);
        load(clock, b.array(), 2);
        assertEquals(2, clock.nowNs());
        assertEquals(7, clock.state().icountBias);
        // this clock is not in icount mode: it never sends the subsection
        assertEquals(24, save(clock, null).length);
    }

    @Test
    void restoredTimerFiresAtTheSameVirtualTime() throws Exception {
        clock = new VirtualClockComponent(System::nanoTime, true);
        CountDownLatch firedOnSource = new CountDownLatch(1);
        GuestTimer t = clock.newTimer(firedOnSource::countDown);
        long expiry = clock.nowNs() + TimeUnit.MILLISECONDS.toNanos(40);
        t.setExpireTimeNs(expiry);
        clock.stop();
        byte[] body = save(clock, null);
        long savedExpiry = t.expireTimeNs();
        assertFalse(firedOnSource.await(80, TimeUnit.MILLISECONDS), "a stopped clock fired a timer");

        other = new VirtualClockComponent(System::nanoTime, false);
        load(other, body, 2);
        long[] firedAt = new long[1];
        CountDownLatch fired = new CountDownLatch(1);
        GuestTimer restored = other.newTimer(() -> {
            firedAt[0] = other.nowNs();
            fired.countDown();
        });
        restored.setExpireTimeNs(savedExpiry);
        long startAt = other.nowNs();
        assertTrue(startAt < savedExpiry);
        other.start();
        assertTrue(fired.await(5, TimeUnit.SECONDS), "restored timer never fired");
        assertTrue(firedAt[0] >= savedExpiry, "fired early: " + firedAt[0] + " < " + savedExpiry);
        assertTrue(firedAt[0] - savedExpiry < TimeUnit.MILLISECONDS.toNanos(500), "fired late by "
                + (firedAt[0] - savedExpiry) + " ns");
        assertEquals(-1, restored.expireTimeNs());
    }

    @Test
    void timersFireInExpiryOrderAndCanRearm() throws Exception {
        clock = new VirtualClockComponent(System::nanoTime, true);
        StringBuilder order = new StringBuilder();
        CountDownLatch done = new CountDownLatch(3);
        GuestTimer[] holder = new GuestTimer[1];
        int[] rearms = { 0 };
        GuestTimer a = clock.newTimer(() -> {
            synchronized (order) {
                order.append('a');
            }
            done.countDown();
            if (rearms[0]++ == 0) {
                holder[0].setExpireTimeNs(clock.nowNs() + 1_000_000);
            }
        });
        holder[0] = a;
        GuestTimer b = clock.newTimer(() -> {
            synchronized (order) {
                order.append('b');
            }
            done.countDown();
        });
        long now = clock.nowNs();
        b.setExpireTimeNs(now + 20_000_000);
        a.setExpireTimeNs(now + 5_000_000);
        assertTrue(done.await(5, TimeUnit.SECONDS));
        synchronized (order) {
            assertTrue(order.toString().startsWith("a"), order.toString());
            assertEquals(3, order.length());
        }
    }

    @Test
    void cancelledTimerDoesNotFire() throws Exception {
        clock = new VirtualClockComponent(System::nanoTime, true);
        CountDownLatch fired = new CountDownLatch(1);
        GuestTimer t = clock.newTimer(fired::countDown);
        t.setExpireTimeNs(clock.nowNs() + 20_000_000);
        t.cancel();
        assertFalse(t.armed());
        assertFalse(fired.await(100, TimeUnit.MILLISECONDS));
    }

    @Test
    void deactivateStopsTheSchedulerThread() throws InterruptedException {
        VirtualClockComponent c = new VirtualClockComponent(Map.of("start", "true"));
        assertTrue(c.running());
        assertTrue(c.schedulerAlive());
        c.deactivate();
        assertFalse(c.schedulerAlive());
    }
}
