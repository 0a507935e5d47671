package org.savevm.migration.multifd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** QEMU 7.2's MultiFDInit_t and MultiFDPacket_t, byte for byte. */
class MultifdWireTest {
    @Test
    void initialPacketIsSixtyFourBytesWithMagicVersionAndId() {
        ByteBuffer b = MultifdWire.initPacket(3);
        byte[] a = new byte[b.remaining()];
        b.get(a);
        byte[] expected = new byte[64];
        System.arraycopy(new byte[] {0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1}, 0, expected, 0, 8);
        expected[24] = 3;
        assertArrayEquals(expected, a);
    }

    @Test
    void initialPacketChecks() throws IOException {
        assertEquals(1, MultifdWire.parseInit(MultifdWire.initPacket(1), 2));
        IOException e = assertThrows(IOException.class, () -> MultifdWire.parseInit(MultifdWire.initPacket(2), 2));
        assertTrue(e.getMessage().contains("channel id 2"), e.getMessage());
        ByteBuffer bad = MultifdWire.initPacket(0);
        bad.putInt(0, 0x11223345);
        e = assertThrows(IOException.class, () -> MultifdWire.parseInit(bad, 2));
        assertTrue(e.getMessage().contains("magic 11223345 expected 11223344"), e.getMessage());
    }

    @Test
    void packetHeaderLayout() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MultifdWire.PACKET_HEADER_SIZE);
        MultifdWire.putHeader(b, 0, "pc.ram", new long[] {0x1000, 0x3000}, 2, 7);
        assertEquals(1344, b.remaining());
        assertEquals(0x11223344, b.getInt(0));
        assertEquals(1, b.getInt(4));
        assertEquals(0, b.getInt(8));
        assertEquals(128, b.getInt(12), "pages_alloc: room for 512 KiB of 4 KiB pages");
        assertEquals(2, b.getInt(16), "normal pages");
        assertEquals(8192, b.getInt(20), "next_packet_size");
        assertEquals(7, b.getLong(24), "packet_num");
        for (int i = 32; i < 64; i++) {
            assertEquals(0, b.get(i), "unused at " + i);
        }
        byte[] name = new byte[256];
        b.get(64, name);
        byte[] expected = Arrays.copyOf("pc.ram".getBytes(StandardCharsets.US_ASCII), 256);
        assertArrayEquals(expected, name);
        assertEquals(0x1000, b.getLong(320));
        assertEquals(0x3000, b.getLong(328));
        for (int i = 336; i < 1344; i++) {
            assertEquals(0, b.get(i), "unused offset byte " + i);
        }
        MultifdWire.Header h = MultifdWire.parseHeader(b);
        assertEquals("pc.ram", h.block());
        assertEquals(2, h.used());
        assertEquals(7, h.packetNum());
        assertArrayEquals(new long[] {0x1000, 0x3000}, h.offsets());
    }

    @Test
    void syncPacketCarriesNoPages() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MultifdWire.PACKET_HEADER_SIZE);
        MultifdWire.putHeader(b, MultifdWire.FLAG_SYNC, null, null, 0, 9);
        MultifdWire.Header h = MultifdWire.parseHeader(b);
        assertTrue(h.sync());
        assertEquals(0, h.used());
        assertEquals(9, h.packetNum());
    }

    @Test
    void badHeadersAreRefusedWithQemusReasons() {
        ByteBuffer b = ByteBuffer.allocate(MultifdWire.PACKET_HEADER_SIZE);
        MultifdWire.putHeader(b, 0, "pc.ram", new long[] {0}, 1, 1);
        assertRefused(b, 8, 1 << 1, "flags received 2");
        assertRefused(b, 0, 0x11223345, "magic 11223345");
        assertRefused(b, 4, 2, "version 2");
        assertRefused(b, 12, 12801, "maximum size of 12800");
        assertRefused(b, 16, 129, "129 pages and expected maximum pages are 128");
        ByteBuffer big = ByteBuffer.allocate(MultifdWire.PACKET_HEADER_SIZE);
        MultifdWire.putHeader(big, 0, "pc.ram", new long[] {0}, 1, 1);
        big.putInt(12, 200);
        assertRefused(big, 16, 129, "more than the 128");
    }

    private static void assertRefused(ByteBuffer good, int at, int value, String message) {
        ByteBuffer b = ByteBuffer.allocate(good.capacity());
        b.put(0, good, 0, good.capacity());
        b.putInt(at, value);
        IOException e = assertThrows(IOException.class, () -> MultifdWire.parseHeader(b));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
