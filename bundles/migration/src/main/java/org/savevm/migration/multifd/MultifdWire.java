package org.savevm.migration.multifd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.savevm.api.machine.RamBlock;

/**
 * QEMU 7.2's multifd wire format (migration/multifd.c, without compression): each channel opens with a
 * 64-byte MultiFDInit_t, then carries packets: a fixed 1344-byte MultiFDPacket_t header (room for 128 page
 * offsets, MULTIFD_PACKET_SIZE 512 KiB of 4 KiB pages) followed by the raw pages it lists. All integers
 * big-endian.
 */
public final class MultifdWire {
    public static final int MAGIC = 0x11223344;
    public static final int VERSION = 1;
    public static final int FLAG_SYNC = 1;
    /** Three bits of compression method: 0 none, 1 zlib, 2 zstd (not here). */
    public static final int FLAG_COMPRESSION_MASK = 7 << 1;
    public static final int FLAG_ZLIB = 1 << 1;
    /** QEMU's receive buffer for a compressed packet: twice MULTIFD_PACKET_SIZE. */
    public static final int MAX_COMPRESSED = 2 * 512 * 1024;
    /** MULTIFD_PACKET_SIZE (512 KiB) in target pages. */
    public static final int PACKET_PAGES = 512 * 1024 / RamBlock.TARGET_PAGE_SIZE;
    /** be32 magic, version · uuid[16] · u8 id · 7 unused · 4 x u64 unused. */
    public static final int INIT_SIZE = 4 + 4 + 16 + 1 + 7 + 32;
    /** be32 magic, version, flags, pages_alloc, normal_pages, next_packet_size · be64 packet_num · 4 x u64 · ramblock[256]. */
    static final int FIXED_HEADER = 6 * 4 + 8 + 32 + 256;
    public static final int PACKET_HEADER_SIZE = FIXED_HEADER + 8 * PACKET_PAGES;
    /** QEMU stops at a pages_alloc a hundred times what it expects. */
    private static final int MAX_PAGES_ALLOC = PACKET_PAGES * 100;
    private static final int RAMBLOCK_NAME = 256;

    private MultifdWire() {
    }

    /** The channel's first bytes; the uuid is QEMU's default all-zero qemu_uuid. */
    public static ByteBuffer initPacket(int id) {
        ByteBuffer b = ByteBuffer.allocate(INIT_SIZE).order(ByteOrder.BIG_ENDIAN);
        b.putInt(MAGIC).putInt(VERSION);
        b.position(24);
        b.put((byte) id);
        b.position(0);
        return b;
    }

    /** Checks a channel's first bytes as multifd_recv_initial_packet does; returns the channel id. */
    public static int parseInit(ByteBuffer b, int channels) throws IOException {
        int magic = b.getInt(0);
        int version = b.getInt(4);
        if (magic != MAGIC) {
            throw new IOException(String.format("multifd: received packet magic %x expected %x", magic, MAGIC));
        }
        if (version != VERSION) {
            throw new IOException("multifd: received packet version " + version + " expected " + VERSION);
        }
        for (int i = 8; i < 24; i++) {
            if (b.get(i) != 0) {
                throw new IOException("multifd: received a uuid other than the expected all-zero one");
            }
        }
        int id = b.get(24) & 0xff;
        if (id >= channels) {
            throw new IOException("multifd: received channel id " + id + " but only " + channels
                    + " channels are expected (multifd-channels)");
        }
        return id;
    }

    /** Writes a packet header into {@code b} (position 0, PACKET_HEADER_SIZE bytes); unused offsets stay 0. */
    public static void putHeader(ByteBuffer b, int flags, String block, long[] offsets, int used, long packetNum) {
        putHeader(b, flags, block, offsets, used, packetNum, used * RamBlock.TARGET_PAGE_SIZE);
    }

    /** As above with the payload's size: compressed, or the pages' bytes. */
    public static void putHeader(ByteBuffer b, int flags, String block, long[] offsets, int used, long packetNum,
            int nextPacketSize) {
        b.clear();
        b.putInt(MAGIC).putInt(VERSION).putInt(flags).putInt(PACKET_PAGES).putInt(used).putInt(nextPacketSize);
        b.putLong(packetNum);
        for (int i = 0; i < 4; i++) {
            b.putLong(0);
        }
        byte[] name = block == null ? new byte[0] : block.getBytes(StandardCharsets.UTF_8);
        if (name.length >= RAMBLOCK_NAME) {
            throw new IllegalArgumentException("RAM block name too long for a multifd packet: " + block);
        }
        b.put(name);
        for (int i = name.length; i < RAMBLOCK_NAME; i++) {
            b.put((byte) 0);
        }
        for (int i = 0; i < PACKET_PAGES; i++) {
            b.putLong(i < used ? offsets[i] : 0);
        }
        b.flip();
    }

    /** A packet header as read, checked as multifd_recv_unfill_packet does. */
    public record Header(int flags, int used, long packetNum, String block, long[] offsets, long nextPacketSize) {
        public boolean sync() {
            return (flags & FLAG_SYNC) != 0;
        }
    }

    /**
     * Parses a header read from a channel. Offsets are checked against the block by the caller, which knows
     * the blocks; here only what the header itself can tell.
     */
    public static Header parseHeader(ByteBuffer b) throws IOException {
        return parseHeader(b, 0);
    }

    /**
     * As above, for a channel expecting {@code compression} (0 or {@link #FLAG_ZLIB}) on packets with pages;
     * sync packets carry no compression bits, as QEMU's.
     */
    public static Header parseHeader(ByteBuffer b, int compression) throws IOException {
        int magic = b.getInt(0);
        if (magic != MAGIC) {
            throw new IOException(String.format("multifd: received packet magic %x and expected magic %x", magic, MAGIC));
        }
        int version = b.getInt(4);
        if (version != VERSION) {
            throw new IOException("multifd: received packet version " + version + " and expected version " + VERSION);
        }
        int flags = b.getInt(8);
        long pagesAlloc = b.getInt(12) & 0xffffffffL;
        if (pagesAlloc > MAX_PAGES_ALLOC) {
            throw new IOException("multifd: received packet with size " + pagesAlloc
                    + " and expected a maximum size of " + MAX_PAGES_ALLOC);
        }
        long used = b.getInt(16) & 0xffffffffL;
        if (used > pagesAlloc) {
            throw new IOException("multifd: received packet with " + used + " pages and expected maximum pages are "
                    + pagesAlloc);
        }
        if (used > PACKET_PAGES) {
            throw new IOException("multifd: received packet with " + used + " pages, more than the " + PACKET_PAGES
                    + " a packet header has offsets for");
        }
        long nextPacketSize = b.getInt(20) & 0xffffffffL;
        long packetNum = b.getLong(24);
        if (used == 0) {
            return new Header(flags, 0, packetNum, null, new long[0], nextPacketSize);
        }
        if ((flags & FLAG_COMPRESSION_MASK) != compression) {
            throw new IOException(String.format("multifd: flags received %x flags expected %x",
                    flags & FLAG_COMPRESSION_MASK, compression));
        }
        if (compression != 0 && (nextPacketSize == 0 || nextPacketSize > MAX_COMPRESSED)) {
            throw new IOException("multifd: compressed packet of " + nextPacketSize + " bytes (1 to " + MAX_COMPRESSED
                    + " expected)");
        }
        int nameEnd = FIXED_HEADER - RAMBLOCK_NAME;
        int len = 0;
        // as QEMU, the name ends at the first NUL or at byte 255
        while (len < RAMBLOCK_NAME - 1 && b.get(nameEnd + len) != 0) {
            len++;
        }
        byte[] name = new byte[len];
        b.get(nameEnd, name);
        long[] offsets = new long[(int) used];
        for (int i = 0; i < used; i++) {
            offsets[i] = b.getLong(FIXED_HEADER + 8 * i);
        }
        return new Header(flags, (int) used, packetNum, new String(name, StandardCharsets.UTF_8), offsets, nextPacketSize);
    }
}
