package org.savevm.migration.multifd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * issue 13: one multifd channel's bytes (initial packet, packet headers, pages; with multifd-compression
 * zlib the packets' compressed pages, one zlib stream per channel) through the real receive path of
 * {@link MultifdRecvChannels} into the off-heap RAM of pc-i440fx-7.2 with 16 MiB, run on the calling
 * thread ({@code receiveInline}). The first input byte picks the compression (bit 0: zlib). Refusals are
 * the channel's failure (an IOException); the oracle also looks into its cause chain, where the receiver
 * keeps any RuntimeException it caught. Seeds in {@code MultifdFuzzTestInputs/channel}: what the sender
 * writes for a packet of pages and a sync packet, plain and zlib ({@link #seed}, checked by a test).
 */
class MultifdFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("MultifdFuzzTest.channel", IOException.class);
    private static SimulatedMachine machine;

    @BeforeAll
    static void start() {
        machine = new SimulatedMachine("pc-i440fx-7.2", 16L << 20);
    }

    @AfterAll
    static void stop() {
        machine.close();
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "6s")
    void channel(byte[] input) {
        if (input.length == 0) {
            return;
        }
        boolean zlib = (input[0] & 1) != 0;
        byte[] bytes = Arrays.copyOfRange(input, 1, input.length);
        ORACLE.check(input.length, () -> {
            MultifdRecvChannels recv = new MultifdRecvChannels(
                    List.of(Channels.newChannel(new ByteArrayInputStream(bytes))), machine::ramBlock, e -> {
                    }, 1000, zlib);
            try {
                IOException failure = recv.receiveInline();
                if (failure != null) {
                    throw failure;
                }
            } finally {
                recv.close();
            }
        });
    }

    /** The first input byte (compression) and what the sender writes on one channel: init, a packet, a SYNC. */
    static byte[] seed(boolean zlib, boolean pages) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(zlib ? 1 : 0);
        ByteBuffer init = MultifdWire.initPacket(0);
        o.write(init.array(), init.position(), init.remaining());
        if (pages) {
            long[] offs = {0, 4096 * 5, 4096 * 9};
            ByteBuffer[] pg = new ByteBuffer[3];
            for (int i = 0; i < 3; i++) {
                byte[] b = new byte[4096];
                for (int j = 0; j < b.length; j++) b[j] = (byte) (j * (i + 3));
                pg[i] = ByteBuffer.wrap(b);
            }
            ByteBuffer h = ByteBuffer.allocate(MultifdWire.PACKET_HEADER_SIZE);
            ByteBuffer body;
            if (zlib) {
                try (PacketDeflater d = new PacketDeflater(1)) {
                    body = d.compress(pg);
                    byte[] c = new byte[body.remaining()];
                    body.get(c);
                    MultifdWire.putHeader(h, MultifdWire.FLAG_ZLIB, "pc.ram", offs, 3, 1, c.length);
                    o.write(h.array(), 0, h.limit());
                    o.write(c);
                }
            } else {
                MultifdWire.putHeader(h, 0, "pc.ram", offs, 3, 1);
                o.write(h.array(), 0, h.limit());
                for (ByteBuffer p : pg) o.write(p.array());
            }
        }
        ByteBuffer s = ByteBuffer.allocate(MultifdWire.PACKET_HEADER_SIZE);
        MultifdWire.putHeader(s, MultifdWire.FLAG_SYNC, "", new long[0], 0, 2);
        o.write(s.array(), 0, s.limit());
        return o.toByteArray();
    }

    @Test
    void seedsAreWhatTheSenderWrites() throws Exception {
        assertArrayEquals(seed(false, true), resource("sender-packet-and-sync"));
        assertArrayEquals(seed(true, true), resource("sender-zlib-packet-and-sync"));
        assertArrayEquals(seed(false, false), resource("sender-sync-only"));
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = MultifdFuzzTest.class.getResourceAsStream("MultifdFuzzTestInputs/channel/" + name)) {
            return in.readAllBytes();
        }
    }
}
