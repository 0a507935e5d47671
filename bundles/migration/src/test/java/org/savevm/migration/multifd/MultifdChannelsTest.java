package org.savevm.migration.multifd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.savevm.api.machine.RamBlock;
import org.savevm.machine.internal.SimulatedMachine;

/** Pages over real loopback sockets, two channels, into a second machine's RAM. */
class MultifdChannelsTest {
    private static final int PAGE = 4096;
    private static final int CHANNELS = 2;

    private SimulatedMachine src;
    private SimulatedMachine dst;
    private final List<SocketChannel> srcSides = new ArrayList<>();
    private final List<SocketChannel> dstSides = new ArrayList<>();

    @BeforeEach
    void connect() throws IOException {
        src = new SimulatedMachine("pc-i440fx-7.2", 16L << 20);
        dst = new SimulatedMachine("pc-i440fx-7.2", 16L << 20);
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            for (int i = 0; i < CHANNELS; i++) {
                srcSides.add(SocketChannel.open(server.getLocalAddress()));
                dstSides.add(server.accept());
            }
        }
    }

    @AfterEach
    void close() throws IOException {
        for (SocketChannel c : srcSides) {
            c.close();
        }
        for (SocketChannel c : dstSides) {
            c.close();
        }
        src.close();
        dst.close();
    }

    private static void randomPage(RamBlock ram, long page, Random rnd) {
        byte[] buf = new byte[PAGE];
        rnd.nextBytes(buf);
        ram.write(page * PAGE, buf, 0, PAGE);
    }

    private static byte[] contents(RamBlock ram) {
        byte[] all = new byte[(int) ram.usedLength()];
        ram.read(0, all, 0, all.length);
        return all;
    }

    /** One round on each side: the source queues and syncs, the destination waits for the sync. */
    private static void round(MultifdSendChannels send, MultifdRecvChannels recv, RamBlock ram, long[] pages)
            throws Exception {
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
            try {
                for (long p : pages) {
                    send.queuePage(ram, p * PAGE);
                }
                send.syncMain();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        recv.syncMain();
        sender.get(30, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "zlib {0}")
    @ValueSource(booleans = {false, true})
    void everyPageArrivesAndLaterRoundsOverwriteEarlierOnes(boolean zlib) throws Exception {
        RamBlock from = src.ramBlock("pc.ram").orElseThrow();
        RamBlock to = dst.ramBlock("pc.ram").orElseThrow();
        Random rnd = new Random(11);
        long pages = from.pages();
        for (long p = 0; p < pages; p++) {
            if (zlib && p % 3 == 0) {
                // compressible: a short pattern repeated
                byte[] page = new byte[PAGE];
                for (int i = 0; i < PAGE; i++) {
                    page[i] = (byte) (i % 13 + p);
                }
                from.write(p * PAGE, page, 0, PAGE);
            } else {
                randomPage(from, p, rnd);
            }
        }
        try (MultifdSendChannels send = new MultifdSendChannels(srcSides, zlib ? 6 : -1);
                MultifdRecvChannels recv = new MultifdRecvChannels(dstSides, dst::ramBlock, e -> { }, 60_000, zlib)) {
            recv.start();
            long[] all = new long[(int) pages];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            round(send, recv, from, all);
            assertArrayEquals(contents(from), contents(to), "first round: all of RAM");
            // the same few pages again and again, each round with new content: without the sync barrier a
            // packet of an older round could land after a newer one on the other channel
            for (int r = 0; r < 40; r++) {
                long[] again = new long[200];
                for (int i = 0; i < again.length; i++) {
                    again[i] = i % 7 + (r % 3) * 1000;
                    randomPage(from, again[i], rnd);
                }
                round(send, recv, from, again);
            }
            assertArrayEquals(contents(from), contents(to), "after 40 rounds over the same pages");
            assertEquals(send.bytes(), recv.bytes(), "bytes written = bytes read");
            if (zlib) {
                assertTrue(recv.bytes() < (pages + 40 * 200) * PAGE, "a third of the pages compress: " + recv.bytes());
            }
            assertEquals(pages + 40 * 200, recv.pages());
        }
    }

    @Test
    void aCorruptPacketFailsTheChannelWithWhereItWas() throws Exception {
        RamBlock from = src.ramBlock("pc.ram").orElseThrow();
        AtomicReference<IOException> told = new AtomicReference<>();
        try (MultifdRecvChannels recv = new MultifdRecvChannels(dstSides, dst::ramBlock, told::set)) {
            recv.start();
            for (int i = 0; i < CHANNELS; i++) {
                write(srcSides.get(i), MultifdWire.initPacket(i));
            }
            ByteBuffer h = ByteBuffer.allocate(MultifdWire.PACKET_HEADER_SIZE);
            MultifdWire.putHeader(h, 0, "pc.ram", new long[] {from.usedLength()}, 1, 0);
            write(srcSides.get(1), h);
            write(srcSides.get(1), ByteBuffer.allocate(PAGE));
            IOException e = assertThrows(IOException.class, recv::syncMain);
            assertTrue(e.getMessage().contains("multifd channel 1 at byte"), e.getMessage());
            assertTrue(e.getMessage().contains("offset too long"), e.getMessage());
            assertTrue(e.getMessage().contains("packet at byte 64"), e.getMessage());
            assertNotNull(told.get(), "the loader was told, to break its main stream");
        }
    }

    @Test
    void aSecondChannelWithTheSameIdIsRefused() throws Exception {
        try (MultifdRecvChannels recv = new MultifdRecvChannels(dstSides, dst::ramBlock, e -> { })) {
            recv.start();
            write(srcSides.get(0), MultifdWire.initPacket(0));
            write(srcSides.get(1), MultifdWire.initPacket(0));
            IOException e = assertThrows(IOException.class, recv::syncMain);
            assertTrue(e.getMessage().contains("a second channel with id 0"), e.getMessage());
        }
    }

    @Test
    void aChannelThatNeverSyncsFailsTheWaitInsteadOfHanging() throws Exception {
        AtomicReference<IOException> told = new AtomicReference<>();
        try (MultifdRecvChannels recv = new MultifdRecvChannels(dstSides, dst::ramBlock, told::set, 300, false)) {
            recv.start();
            write(srcSides.get(0), MultifdWire.initPacket(0));
            write(srcSides.get(1), MultifdWire.initPacket(1));
            ByteBuffer sync = ByteBuffer.allocate(MultifdWire.PACKET_HEADER_SIZE);
            MultifdWire.putHeader(sync, MultifdWire.FLAG_SYNC, null, null, 0, 0);
            write(srcSides.get(0), sync);
            long t0 = System.nanoTime();
            IOException e = assertThrows(IOException.class, recv::syncMain);
            assertTrue(e.getMessage().contains("no SYNC from 1 of 2 channels within 300 ms"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "failed within bounds");
            assertNotNull(told.get(), "the loader was told");
        }
    }

    private static void write(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            c.write(b);
        }
    }
}
