package org.savevm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SaveVm;
import org.savevm.core.testing.BlobDevice;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.ChunkedLiveHandler;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/** Save then load through a file and a loopback socket; byte layout of what the saver writes. */
class RoundTripTest {
    @TempDir
    Path tmp;

    /** A machine: one live handler and two devices, in save order. */
    static final class Machine {
        final ChunkedLiveHandler live = new ChunkedLiveHandler("test-live", 50, 10);
        final BlobDevice a;
        final BlobDevice b;
        final FakeRegistry registry = new FakeRegistry();

        Machine(boolean filled) {
            byte[] da = new byte[16];
            byte[] db = new byte[300];
            if (filled) {
                for (int i = 0; i < da.length; i++) {
                    da[i] = (byte) (0xa0 + i);
                }
                for (int i = 0; i < db.length; i++) {
                    db[i] = (byte) (i * 7);
                }
            }
            a = new BlobDevice("dev-a", 0, 2, da);
            b = new BlobDevice("0000:00:01.0/dev-b", 1, 1, db);
            registry.add(live, 2).add(a, 5).add(b, 7);
        }

        SaveVmService service() {
            return new SaveVmService(registry, new BlobEngine(), Map.of());
        }
    }

    static int save(SaveVm saveVm, MigrationOutput out, MigrationSettings settings) throws IOException {
        int rounds = 0;
        try (SaveVm.Outgoing o = saveVm.beginSave(out, settings)) {
            while (!o.iterate()) {
                rounds++;
            }
            o.complete();
        }
        return rounds;
    }

    static void assertSameState(Machine src, Machine dst) {
        assertArrayEquals(src.a.data(), dst.a.data());
        assertArrayEquals(src.b.data(), dst.b.data());
        assertEquals(1, dst.a.commits);
        assertEquals(1, dst.b.commits);
        assertEquals(50, dst.live.received.cardinality());
        assertTrue(dst.live.events.contains("load-complete"));
        assertEquals(1, dst.live.loadSessionsClosed);
    }

    @Test
    void roundTripThroughFile() throws IOException {
        Machine src = new Machine(true);
        Path file = tmp.resolve("state.mig");
        try (MigrationOutput out = new MigrationOutput(FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE))) {
            int rounds = save(src.service(), out, MigrationSettings.DEFAULTS);
            assertEquals(4, rounds); // 10 chunks per round: rounds 1-4 unfinished, round 5 finishes
        }
        assertEquals(1, src.live.saveSessionsClosed);
        Machine dst = new Machine(false);
        try (MigrationInput in = new MigrationInput(FileChannel.open(file))) {
            dst.service().load(in, MigrationSettings.DEFAULTS);
        }
        assertSameState(src, dst);
    }

    @Test
    void roundTripThroughLoopbackSocket() throws Exception {
        Machine src = new Machine(true);
        Machine dst = new Machine(false);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (ServerSocketChannel server = ServerSocketChannel.open()) {
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                    try (SocketChannel ch = SocketChannel.open(server.getLocalAddress());
                            MigrationOutput out = new MigrationOutput(ch)) {
                        save(src.service(), out, MigrationSettings.DEFAULTS);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                try (SocketChannel accepted = server.accept(); MigrationInput in = new MigrationInput(accepted)) {
                    dst.service().load(in, MigrationSettings.DEFAULTS);
                }
                sender.get();
            }
        });
        assertSameState(src, dst);
    }

    @Test
    void exactBytesOfASmallSave() throws IOException {
        FakeRegistry reg = new FakeRegistry();
        reg.add(new BlobDevice("dev-a", 0, 2, new byte[] { (byte) 0xab, (byte) 0xcd }), 5);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            save(new SaveVmService(reg, new BlobEngine(), Map.of()), out, MigrationSettings.DEFAULTS);
        }
        String json = "{\"page_size\": 4096, \"devices\": [{\"name\": \"dev-a\", \"instance_id\": 0, \"vmsd_name\": "
                + "\"dev-a\", \"version\": 2, \"fields\": [{\"name\": \"data\", \"type\": \"buffer\", \"size\": 2}]}]}";
        ByteBuffer expected = ByteBuffer.allocate(400);
        expected.putInt(0x5145564d).putInt(3);
        expected.put((byte) 7).putInt(13).put("pc-i440fx-7.2".getBytes(StandardCharsets.US_ASCII));
        expected.put((byte) 4).putInt(5).put((byte) 5).put("dev-a".getBytes(StandardCharsets.US_ASCII)).putInt(0)
                .putInt(2);
        expected.put((byte) 0xab).put((byte) 0xcd);
        expected.put((byte) 0x7e).putInt(5);
        expected.put((byte) 0);
        expected.put((byte) 6).putInt(json.length()).put(json.getBytes(StandardCharsets.US_ASCII));
        byte[] want = new byte[expected.position()];
        expected.flip().get(want);
        assertArrayEquals(want, bytes.toByteArray());
    }

    @Test
    void liveSectionFramingOrder() throws IOException {
        Machine src = new Machine(true);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            save(src.service(), out, MigrationSettings.DEFAULTS);
        }
        byte[] s = bytes.toByteArray();
        // after header (8) and configuration (1+4+13): START of test-live, section id 2, version 3
        int p = 26;
        assertEquals(1, s[p]);
        assertEquals(2, ByteBuffer.wrap(s, p + 1, 4).getInt());
        assertEquals("test-live", new String(s, p + 6, 9, StandardCharsets.US_ASCII));
        assertEquals(3, ByteBuffer.wrap(s, p + 19, 4).getInt());
        assertEquals(50, ByteBuffer.wrap(s, p + 23, 4).getInt());
        assertEquals(0x7e, s[p + 27]);
        assertEquals(2, ByteBuffer.wrap(s, p + 28, 4).getInt());
        assertEquals(2, s[p + 32]); // then a PART of the same section
        assertEquals(List.of("setup", "iterate", "iterate", "iterate", "iterate", "iterate", "complete"),
                src.live.events);
    }

    @Test
    void footersAndConfigurationOffRoundTrip() throws IOException {
        MigrationSettings off = MigrationSettings.DEFAULTS.withParameter("send-section-footer", 0)
                .withParameter("send-configuration", 0);
        Machine src = new Machine(true);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            save(src.service(), out, off);
        }
        byte[] s = bytes.toByteArray();
        assertEquals(1, s[8]); // START directly after the header
        Machine dst = new Machine(false);
        dst.service().load(MigrationInput.of(s), off);
        assertSameState(src, dst);

        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> new Machine(false).service().load(MigrationInput.of(s), MigrationSettings.DEFAULTS));
        assertTrue(e.getMessage().startsWith("Configuration section missing"), e.getMessage());
        MigrationStreamException e2 = assertThrows(MigrationStreamException.class, () -> new Machine(false).service()
                .load(MigrationInput.of(s), MigrationSettings.DEFAULTS.withParameter("send-configuration", 0)));
        assertTrue(e2.getMessage().contains("Missing section footer for test-live"), e2.getMessage());
    }

    @Test
    void rateLimitStopsTheRound() throws IOException {
        Machine src = new Machine(true);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            SaveVm.Outgoing o = src.service().beginSave(out, MigrationSettings.DEFAULTS);
            // budget: whatever is written so far plus two chunks
            long budget = out.position() + 2 * (5 + ChunkedLiveHandler.CHUNK) + 5;
            out.setRateLimiter(total -> total >= budget);
            assertFalse(o.iterate());
            assertEquals(48L * ChunkedLiveHandler.CHUNK, o.pending(false).mustPrecopy());
            assertFalse(o.iterate()); // limit already exceeded: no PART written at all
            assertEquals(48L * ChunkedLiveHandler.CHUNK, o.pending(true).mustPrecopy());
            out.setRateLimiter(null);
            o.complete();
            o.close();
        }
        Machine dst = new Machine(false);
        dst.service().load(MigrationInput.of(bytes.toByteArray()), MigrationSettings.DEFAULTS);
        assertSameState(src, dst);
    }

    @Test
    void inactiveLiveHandlerIsLeftOut() throws IOException {
        Machine src = new Machine(true);
        src.live.active = false;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            save(src.service(), out, MigrationSettings.DEFAULTS);
        }
        assertTrue(src.live.events.isEmpty());
        Machine dst = new Machine(false);
        dst.service().load(MigrationInput.of(bytes.toByteArray()), MigrationSettings.DEFAULTS);
        assertEquals(1, dst.a.commits);
        assertEquals(0, dst.live.loadSessionsClosed);
    }

    @Test
    void handlerLeavingMidSaveFailsTheSaveWithItsName() throws IOException {
        Machine src = new Machine(true);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            SaveVm.Outgoing o = src.service().beginSave(out, MigrationSettings.DEFAULTS);
            o.iterate();
            src.registry.unregister(src.b);
            IOException e = assertThrows(IOException.class, o::complete);
            assertTrue(e.getMessage().contains("'0000:00:01.0/dev-b' instance 1"), e.getMessage());
            o.close();
        }
        assertEquals(1, src.live.saveSessionsClosed);
    }

    @Test
    void blockersRefuseTheSave() {
        Machine src = new Machine(true);
        src.registry.block("State blocked by non-migratable device 'dev-x'");
        IOException e = assertThrows(IOException.class,
                () -> src.service().beginSave(MigrationOutput.of(new ByteArrayOutputStream()), MigrationSettings.DEFAULTS));
        assertEquals("State blocked by non-migratable device 'dev-x'", e.getMessage());
        assertTrue(src.live.events.isEmpty());
    }

    @Test
    void deviceStateOnlySave() throws IOException {
        Machine src = new Machine(true);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(bytes)) {
            src.service().saveDeviceState(out);
        }
        byte[] s = bytes.toByteArray();
        // header, FULL dev-a (19 + 16 + 5), FULL dev-b (32 + 300 + 5), EOF; no configuration, no vmdesc
        assertEquals(8 + (1 + 4 + 1 + 5 + 8) + 16 + 5 + (1 + 4 + 1 + 18 + 8) + 300 + 5 + 1, s.length);
        assertEquals(4, s[8]);
        assertEquals(0, s[s.length - 1]);
        assertTrue(src.live.events.isEmpty());
        FakeRegistry devicesOnly = new FakeRegistry();
        BlobDevice a = new BlobDevice("dev-a", 0, 2, 16);
        BlobDevice b = new BlobDevice("0000:00:01.0/dev-b", 1, 1, 300);
        devicesOnly.add(a, 5).add(b, 7);
        new SaveVmService(devicesOnly, new BlobEngine(), Map.of()).load(MigrationInput.of(s),
                MigrationSettings.DEFAULTS.withParameter("send-configuration", 0));
        assertArrayEquals(src.a.data(), a.data());
        assertArrayEquals(src.b.data(), b.data());
    }
}
