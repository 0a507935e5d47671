package org.savevm.core.commands;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.DiscardRange;
import org.savevm.api.IncomingCommands;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.core.SaveVmService;
import org.savevm.framing.commands.CommandWriter;
import org.savevm.core.config.ConfigurationSection;
import org.savevm.core.config.MachineIdentity;
import org.savevm.framing.SectionFooter;
import org.savevm.framing.SectionHeader;
import org.savevm.framing.SectionType;
import org.savevm.framing.StreamHeader;
import org.savevm.core.testing.BlobDevice;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

class MigrationCommandsTest {
    static final MigrationSettings POSTCOPY = MigrationSettings.DEFAULTS.withCapability("postcopy-ram", true);

    interface Writing {
        void write(MigrationOutput out, CommandWriter w) throws IOException;
    }

    static byte[] bytes(Writing body) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(b)) {
            body.write(out, new CommandWriter(out));
        }
        return b.toByteArray();
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** Records every callback. */
    static final class Recorder implements IncomingCommands {
        final List<String> log = new ArrayList<>();

        @Override
        public void openReturnPath() {
            log.add("open-rp");
        }

        @Override
        public void ping(int value) {
            log.add("ping " + value);
        }

        @Override
        public void postcopyAdvise(boolean ram, long summary, long tps) {
            log.add("advise " + ram + " " + summary + " " + tps);
        }

        @Override
        public void postcopyListen() {
            log.add("listen");
        }

        @Override
        public void postcopyRun() {
            log.add("run");
        }

        @Override
        public void postcopyRamDiscard(String block, List<DiscardRange> ranges) {
            log.add("discard " + block + " " + ranges.size() + " first=" + ranges.get(0));
        }

        @Override
        public void enableColo() {
            log.add("colo");
        }

        @Override
        public void postcopyResume() {
            log.add("resume");
        }

        @Override
        public void receivedBitmapRequest(String block) {
            log.add("recv-bitmap " + block);
        }
    }

    @Test
    void wireBytesOfEachCommand() throws IOException {
        assertEquals("080001" + "0000", hex(bytes((o, w) -> w.openReturnPath())));
        assertEquals("080002000400000001", hex(bytes((o, w) -> w.ping(1))));
        assertEquals("0800030010" + "0000000000001000" + "0000000000001000",
                hex(bytes((o, w) -> w.postcopyAdvise(0x1000, 0x1000))));
        assertEquals("0800030000", hex(bytes((o, w) -> w.postcopyAdviseBitmapsOnly())));
        assertEquals("0800040000", hex(bytes((o, w) -> w.postcopyListen())));
        assertEquals("0800050000", hex(bytes((o, w) -> w.postcopyRun())));
        assertEquals("0800080000", hex(bytes((o, w) -> w.enableColo())));
        assertEquals("0800090000", hex(bytes((o, w) -> w.postcopyResume())));
        assertEquals("08000a0007" + "06" + "70632e72616d", hex(bytes((o, w) -> w.receivedBitmapRequest("pc.ram"))));
        assertEquals("080007000400000003" + "aabbcc", hex(bytes((o, w) -> w.packaged(new byte[] { (byte) 0xaa,
                (byte) 0xbb, (byte) 0xcc }))));
        assertEquals("080006" + "0019" + "00" + "06" + "70632e72616d" + "00" + "0000000000002000" + "0000000000001000",
                hex(bytes((o, w) -> w.postcopyRamDiscard("pc.ram", List.of(new DiscardRange(0x2000, 0x1000))))));
    }

    @Test
    void discardIsSplitTwelveRangesPerCommand() throws IOException {
        List<DiscardRange> ranges = new ArrayList<>();
        for (int i = 0; i < 13; i++) {
            ranges.add(new DiscardRange(i * 0x1000L, 0x1000));
        }
        byte[] b = bytes((o, w) -> w.postcopyRamDiscard("pc.ram", ranges));
        int first = 5 + 3 + 6 + 12 * 16;
        assertEquals(first + 5 + 3 + 6 + 16, b.length);
        assertEquals(3 + 6 + 12 * 16, ((b[3] & 0xff) << 8) | (b[4] & 0xff));
        assertEquals(6, b[first + 2]);
    }

    static FakeRegistry registry(BlobDevice dev) {
        return new FakeRegistry().add(dev, 3);
    }

    /** header, configuration, then {@code body}, then EOF and a vmdesc trailer that lists no section. */
    static byte[] stream(Writing body) throws IOException {
        return bytes((o, w) -> {
            StreamHeader.write(o);
            ConfigurationSection.write(o, MachineIdentity.DEFAULT, MigrationSettings.DEFAULTS);
            body.write(o, w);
            o.putByte(SectionType.EOF);
            org.savevm.framing.VmDescription.writeTrailer(o, "{\"page_size\":4096,\"devices\":[]}");
        });
    }

    static byte[] devSection(byte fill) throws IOException {
        return bytes((o, w) -> {
            SectionHeader.writeStartOrFull(o, SectionType.FULL, 3, "dev", 0, 1);
            o.putBytes(new byte[] { fill, fill, fill, fill });
            SectionFooter.write(o, 3);
        });
    }

    static List<String> load(byte[] s, MigrationSettings settings, BlobDevice dev) throws IOException {
        Recorder r = new Recorder();
        new SaveVmService(registry(dev), new BlobEngine(), Map.of()).load(MigrationInput.of(s), new MigrationContext(settings), r);
        return r.log;
    }

    @Test
    void postcopySequenceWithPackage() throws IOException {
        byte[] blob = bytes((o, w) -> {
            w.postcopyListen();
            o.putBytes(devSection((byte) 7));
            w.ping(3);
            w.postcopyRun();
        });
        byte[] s = stream((o, w) -> {
            w.openReturnPath();
            w.ping(1);
            w.postcopyAdvise(0x1000, 0x1000);
            w.postcopyRamDiscard("pc.ram", List.of(new DiscardRange(0, 0x2000)));
            w.ping(2);
            w.packaged(blob);
            w.ping(4);
        });
        BlobDevice dev = new BlobDevice("dev", 0, 1, 4);
        List<String> log = load(s, POSTCOPY, dev);
        assertEquals(List.of("open-rp", "ping 1", "advise true 4096 4096", "discard pc.ram 1 first=DiscardRange[start=0, length=8192]",
                "ping 2", "listen", "ping 3", "run", "ping 4"), log);
        assertArrayEquals(new byte[] { 7, 7, 7, 7 }, dev.data());
    }

    @Test
    void packageEndingEarlyWithEofSkipsItsTail() throws IOException {
        byte[] blob = bytes((o, w) -> {
            o.putBytes(devSection((byte) 1));
            o.putByte(SectionType.EOF);
            o.putBytes(new byte[] { 9, 9, 9 });
        });
        BlobDevice dev = new BlobDevice("dev", 0, 1, 4);
        byte[] s = stream((o, w) -> {
            w.packaged(blob);
            o.putBytes(devSection((byte) 2));
        });
        load(s, MigrationSettings.DEFAULTS, dev);
        assertArrayEquals(new byte[] { 2, 2, 2, 2 }, dev.data());
        assertEquals(2, dev.commits);
    }

    @Test
    void sectionRunningPastThePackageEnd() throws IOException {
        byte[] section = devSection((byte) 1);
        byte[] blob = java.util.Arrays.copyOf(section, section.length - 3);
        byte[] s = stream((o, w) -> {
            w.packaged(blob);
            o.putBytes(new byte[] { 1, 2, 3 });
        });
        BlobDevice dev = new BlobDevice("dev", 0, 1, 4);
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> load(s, MigrationSettings.DEFAULTS, dev));
        assertTrue(e.getMessage().startsWith("in the PACKAGED blob of " + blob.length + " bytes (command at byte 26)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("section 'dev' instance 0"), e.getMessage());
        assertEquals(26 + 9 + blob.length - 1, e.offset()); // the footer id that only has 1 of its 4 bytes
        assertEquals(0, dev.commits);
    }

    @Test
    void packageLongerThanTheStream() throws IOException {
        byte[] s = stream((o, w) -> {
            o.putBytes(new byte[] { 8, 0, 7, 0, 4, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff });
        });
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> load(s, MigrationSettings.DEFAULTS, new BlobDevice("dev", 0, 1, 4)));
        assertTrue(e.getMessage().contains("PACKAGED"), e.getMessage());
    }

    @Test
    void pingWithoutReturnPathFailsLikeQemu() throws IOException {
        byte[] s = stream((o, w) -> w.ping(5));
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> load(s, MigrationSettings.DEFAULTS, new BlobDevice("dev", 0, 1, 4)));
        assertEquals("CMD_PING (0x5) received with no return path (at byte offset 26)", e.getMessage());
    }

    @Test
    void adviseChecks() throws IOException {
        byte[] big = stream((o, w) -> w.postcopyAdvise(0x1000, 0x1000));
        assertTrue(assertThrows(MigrationStreamException.class,
                () -> load(big, MigrationSettings.DEFAULTS, new BlobDevice("dev", 0, 1, 4))).getMessage()
                .startsWith("RAM postcopy is disabled but have 16 byte advise"));
        byte[] small = stream((o, w) -> w.postcopyAdviseBitmapsOnly());
        assertTrue(assertThrows(MigrationStreamException.class, () -> load(small, POSTCOPY, new BlobDevice("dev", 0, 1,
                4))).getMessage().startsWith("RAM postcopy is enabled but have 0 byte advise"));
        assertEquals(List.of("advise false 0 0"), load(small, MigrationSettings.DEFAULTS, new BlobDevice("dev", 0, 1, 4)));
        byte[] pages = stream((o, w) -> w.postcopyAdvise(0x1000, 0x10000));
        assertTrue(assertThrows(MigrationStreamException.class, () -> load(pages, POSTCOPY, new BlobDevice("dev", 0, 1,
                4))).getMessage().startsWith("Postcopy needs matching target page sizes (s=65536 d=4096)"));
        byte[] odd = stream((o, w) -> o.putBytes(new byte[] { 8, 0, 3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0 }));
        assertTrue(assertThrows(MigrationStreamException.class, () -> load(odd, POSTCOPY, new BlobDevice("dev", 0, 1,
                4))).getMessage().startsWith("CMD_POSTCOPY_ADVISE invalid length (8)"));
    }

    @Test
    void discardAndBitmapLengthChecks() throws IOException {
        // 3 + 6 name bytes + 15: not a multiple of 16
        byte[] p = new byte[3 + 6 + 15];
        p[1] = 6;
        System.arraycopy("pc.ram".getBytes(), 0, p, 2, 6);
        byte[] s = stream((o, w) -> {
            o.putBytes(new byte[] { 8, 0, 6, 0, (byte) p.length });
            o.putBytes(p);
        });
        assertTrue(assertThrows(MigrationStreamException.class, () -> load(s, POSTCOPY, new BlobDevice("dev", 0, 1, 4)))
                .getMessage().startsWith("CMD_POSTCOPY_RAM_DISCARD invalid length (24)"));
        byte[] nil = p.clone();
        nil[8] = 1;
        byte[] s2 = stream((o, w) -> {
            o.putBytes(new byte[] { 8, 0, 6, 0, (byte) nil.length });
            o.putBytes(nil);
        });
        assertTrue(assertThrows(MigrationStreamException.class, () -> load(s2, POSTCOPY, new BlobDevice("dev", 0, 1, 4)))
                .getMessage().startsWith("CMD_POSTCOPY_RAM_DISCARD missing nil (1)"));
        byte[] s3 = stream((o, w) -> o.putBytes(new byte[] { 8, 0, 10, 0, 4, 6, 'p', 'c', '.' }));
        assertTrue(assertThrows(MigrationStreamException.class, () -> load(s3, POSTCOPY, new BlobDevice("dev", 0, 1, 4)))
                .getMessage().startsWith("RECV_BITMAP: invalid payload length (4)"));
    }

    @Test
    void defaultDestinationRefusesPostcopyListen() throws IOException {
        // after the 0-byte ADVISE (no RAM postcopy) LISTEN is legal in QEMU's postcopy states: the default refuses it
        byte[] s = stream((o, w) -> {
            o.putBytes(new byte[] { 8, 0, 3, 0, 0 }); // POSTCOPY_ADVISE, 0 bytes
            w.postcopyListen();
        });
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> new SaveVmService(registry(new BlobDevice("dev", 0, 1, 4)), new BlobEngine(), Map.of())
                        .load(MigrationInput.of(s), MigrationSettings.DEFAULTS));
        assertTrue(e.getMessage().startsWith("command POSTCOPY_LISTEN failed"), e.getMessage());
    }

    /** loadvm_postcopy_handle_*: each postcopy command only in its postcopy state, refused with QEMU's words. */
    @Test
    void postcopyCommandsInTheWrongStateAreRefused() throws IOException {
        String listen = assertThrows(MigrationStreamException.class, () -> load(stream((o, w) -> w.postcopyListen()),
                POSTCOPY, new BlobDevice("dev", 0, 1, 4))).getMessage();
        assertTrue(listen.startsWith("CMD_POSTCOPY_LISTEN in wrong postcopy state (0)"), listen);
        String run = assertThrows(MigrationStreamException.class, () -> load(stream((o, w) -> {
            w.postcopyAdvise(4096, 4096);
            w.postcopyRun();
        }), POSTCOPY, new BlobDevice("dev", 0, 1, 4))).getMessage();
        assertTrue(run.startsWith("CMD_POSTCOPY_RUN in wrong postcopy state (1)"), run);
        String advise = assertThrows(MigrationStreamException.class, () -> load(stream((o, w) -> {
            w.postcopyAdvise(4096, 4096);
            w.postcopyAdvise(4096, 4096);
        }), POSTCOPY, new BlobDevice("dev", 0, 1, 4))).getMessage();
        assertTrue(advise.startsWith("CMD_POSTCOPY_ADVISE in wrong postcopy state (1)"), advise);
        String discard = assertThrows(MigrationStreamException.class, () -> load(stream((o, w) -> 
            w.postcopyRamDiscard("pc.ram", java.util.List.of(new org.savevm.api.DiscardRange(0, 4096)))),
                POSTCOPY, new BlobDevice("dev", 0, 1, 4))).getMessage();
        assertTrue(discard.startsWith("CMD_POSTCOPY_RAM_DISCARD in wrong postcopy state (0)"), discard);
    }
}
