package org.savevm.machine.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.migration.Sizes;
import org.savevm.testing.CorpusStreams;

class MachineProfileTest {

    /** Reads the MEM_SIZE record of the real paused-16M stream: block names and used lengths in order. */
    private static List<String> corpusMemSize(long[] totalOut) throws Exception {
        try (InputStream raw = CorpusStreams.open(CorpusStreams.PAUSED_16M)) {
            DataInputStream in = new DataInputStream(raw);
            in.skipNBytes(8); // magic + version
            assertEquals(7, in.readUnsignedByte());
            in.skipNBytes(in.readInt());
            assertEquals(1, in.readUnsignedByte()); // START
            in.readInt();
            byte[] id = new byte[in.readUnsignedByte()];
            in.readFully(id);
            assertEquals("ram", new String(id, StandardCharsets.US_ASCII));
            in.skipNBytes(8);
            long v = in.readLong();
            assertEquals(4, v & 0xfff);
            long total = v & ~0xfffL;
            totalOut[0] = total;
            List<String> out = new ArrayList<>();
            long sum = 0;
            while (sum < total) {
                byte[] name = new byte[in.readUnsignedByte()];
                in.readFully(name);
                long len = in.readLong();
                out.add(new String(name, StandardCharsets.UTF_8) + "=" + Long.toHexString(len));
                sum += len;
            }
            return out;
        }
    }

    @Test
    void pcI440fxBlockListMatchesQemuMemSizeRecord() throws Exception {
        long[] total = new long[1];
        List<String> qemu = corpusMemSize(total);
        try (SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", 16L << 20)) {
            List<String> ours = new ArrayList<>();
            for (RamBlock b : m.ramBlocks()) {
                ours.add(b.idstr() + "=" + Long.toHexString(b.usedLength()));
            }
            assertEquals(qemu, ours);
            assertEquals(total[0], m.ramSize());
        }
    }

    @Test
    void parsesQemuSizes() {
        assertEquals(16L << 20, Sizes.parseBytes("16M"));
        assertEquals(1L << 30, Sizes.parseBytes("1g"));
        assertEquals(4096, Sizes.parseBytes("4096"));
        assertEquals(8L << 10, Sizes.parseBytes("8K"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes("x"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes("-1M"));
        assertThrows(IllegalArgumentException.class, () -> MachineProfile.blocks("q35-weird", 1 << 20));
        assertThrows(IllegalArgumentException.class, () -> MachineProfile.blocks("pc-i440fx-7.2", 1000));
    }

    @Test
    void ramHashEqualForEqualContentAndDiffersOtherwise() {
        try (SimulatedMachine a = new SimulatedMachine("pc-i440fx-7.2", 1L << 20);
                SimulatedMachine b = new SimulatedMachine("pc-i440fx-7.2", 1L << 20)) {
            assertEquals(a.ramHash(), b.ramHash());
            a.ramBlock("pc.bios").orElseThrow().write(0, new byte[] {1}, 0, 1);
            assertNotEquals(a.ramHash(), b.ramHash());
            b.ramBlock("pc.bios").orElseThrow().write(0, new byte[] {1}, 0, 1);
            assertEquals(a.ramHash(), b.ramHash());
            // one bit at the end of a page, and the same two pages in swapped places
            a.ramBlock("pc.ram").orElseThrow().write(5 * 4096 - 1, new byte[] {(byte) 0x80}, 0, 1);
            assertNotEquals(a.ramHash(), b.ramHash());
            b.ramBlock("pc.ram").orElseThrow().write(6 * 4096 - 1, new byte[] {(byte) 0x80}, 0, 1);
            assertNotEquals(a.ramHash(), b.ramHash(), "same page content at another address");
        }
    }
}
