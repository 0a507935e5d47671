package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.RamBlock;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.codec.RamFlags;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/** Malformed "ram" sections: each refused with QEMU's reason and the record's byte offset. */
class BadInputTest {
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;
    private SimulatedMachine machine;

    @BeforeEach
    void start() {
        machine = new SimulatedMachine("pc-i440fx-7.2", 1L << 20);
    }

    @AfterEach
    void stop() {
        machine.close();
    }

    /** Builds a section body. */
    private static final class Body {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final MigrationOutput out = MigrationOutput.of(bytes);

        Body be64(long v) {
            out.putBe64(v);
            return this;
        }

        Body be32(int v) {
            out.putBe32(v);
            return this;
        }

        Body be16(int v) {
            out.putBe16(v);
            return this;
        }

        Body u8(int v) {
            out.putByte(v);
            return this;
        }

        Body name(String s) {
            out.putCountedString(s);
            return this;
        }

        Body raw(byte[] b) {
            out.putBytes(b);
            return this;
        }

        Body eos() {
            return be64(RamFlags.EOS);
        }

        byte[] build() throws IOException {
            out.flush();
            return bytes.toByteArray();
        }
    }

    private MigrationStreamException refused(byte[] body, MigrationSettings settings, int version) throws Exception {
        try (LiveStateHandler.LoadSession load = new RamHandler(machine).beginLoad(new MigrationContext(settings))) {
            return assertThrows(MigrationStreamException.class, () -> load.load(MigrationInput.of(body), version));
        }
    }

    private MigrationStreamException refused(byte[] body) throws Exception {
        return refused(body, MigrationSettings.DEFAULTS, 4);
    }

    private static void assertMessage(MigrationStreamException e, String text, long offset) {
        assertTrue(e.getMessage().contains(text), e.getMessage());
        assertEquals(offset, e.offset(), e.getMessage());
    }

    private void load(byte[] body, MigrationSettings settings) throws Exception {
        try (LiveStateHandler.LoadSession load = new RamHandler(machine).beginLoad(new MigrationContext(settings))) {
            load.load(MigrationInput.of(body), 4);
        }
    }

    @Test
    void unknownBlock() throws Exception {
        byte[] b = new Body().be64(0x1000 | RamFlags.MEM_SIZE).name("nope").be64(0x1000).eos().build();
        assertMessage(refused(b), "Unknown ramblock \"nope\", cannot accept migration", 8);
    }

    @Test
    void sizeMismatchOfAFixedBlock() throws Exception {
        byte[] b = new Body().be64(0x200000 | RamFlags.MEM_SIZE).name("pc.ram").be64(0x200000).eos().build();
        assertMessage(refused(b), "Size mismatch: pc.ram: 0x200000 != 0x100000", 8);
    }

    @Test
    void resizeableBlockTakesTheSourceLength() throws Exception {
        byte[] b = new Body().be64(0x30000 | RamFlags.MEM_SIZE).name("/rom@etc/acpi/tables").be64(0x30000).eos()
                .build();
        load(b, MigrationSettings.DEFAULTS);
        assertEquals(0x30000, machine.ramBlock("/rom@etc/acpi/tables").orElseThrow().usedLength());
        byte[] tooBig = new Body().be64(0x400000 | RamFlags.MEM_SIZE).name("/rom@etc/acpi/tables").be64(0x400000)
                .eos().build();
        assertMessage(refused(tooBig), "Length too large: /rom@etc/acpi/tables: 0x400000 > 0x200000", 8);
    }

    @Test
    void blockListLongerThanItsTotal() throws Exception {
        byte[] b = new Body().be64(0x1000 | RamFlags.MEM_SIZE).name("pc.ram").be64(0x100000).eos().build();
        assertMessage(refused(b), "block list lengths exceed the MEM_SIZE total", 8);
    }

    @Test
    void offsetOutsideTheBlock() throws Exception {
        byte[] b = new Body().be64(0x1000).u8(0).be64(0x100000 | RamFlags.ZERO).name("pc.ram").u8(0).eos().build();
        MigrationStreamException e = refused(b);
        assertTrue(e.getMessage().contains("Unknown combination of migration flags: 0x0"), e.getMessage());
        byte[] b2 = new Body().be64(0x100000 | RamFlags.ZERO).name("pc.ram").u8(0).eos().build();
        assertMessage(refused(b2), "Illegal RAM offset 0x100000 in block pc.ram", 0);
    }

    /**
     * issue 13: a page address with bit 63 set was compared as a signed number, passed the check and failed
     * later in the RAM block with an index exception; it is refused naming block, address and record offset.
     */
    @Test
    void offsetWithBit63IsRefusedAsOutsideTheBlock() throws Exception {
        long addr = 0x8000000000000000L;
        byte[] page = new byte[PAGE];
        byte[] b = new Body().be64(addr | RamFlags.PAGE).name("pc.ram").raw(page).eos().build();
        MigrationStreamException e = refused(b);
        assertMessage(e, "Illegal RAM offset 0x8000000000000000 in block pc.ram (used length 0x100000)", 0);
        assertNull(e.getCause(), "no programming error behind the refusal");
        MigrationStreamException z = refused(new Body().be64(0xfffffffffffff000L | RamFlags.ZERO).name("pc.ram").u8(0)
                .eos().build());
        assertMessage(z, "Illegal RAM offset 0xfffffffffffff000 in block pc.ram", 0);
    }

    /** A postcopy discard range whose start or end overflows a signed sum is refused, not an index error. */
    @Test
    void discardRangeOverflowingSixtyFourBitsIsRefused() throws Exception {
        try (LiveStateHandler.LoadSession load = new RamHandler(machine)
                .beginLoad(new MigrationContext(MigrationSettings.DEFAULTS))) {
            org.savevm.api.machine.RamPostcopyDestination dest = (org.savevm.api.machine.RamPostcopyDestination) load;
            for (long[] r : new long[][] {{0x1000, 0x7ffffffffffff000L}, {0x2000, 0x7ffffffffffff000L},
                    {0x100000, 0x1000}}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> dest.discard(new org.savevm.api.machine.PageRange("pc.ram", r[0], r[1])));
                assertTrue(e.getMessage().contains("postcopy discard past the end of pc.ram"), e.getMessage());
            }
            dest.discard(new org.savevm.api.machine.PageRange("pc.ram", 0xff000, 0x1000));
        }
    }

    /** issue 13 (d): a block name with terminal escapes is shown escaped in the refusal, never raw. */
    @Test
    void blockNameWithTerminalEscapesIsEscapedInTheMessage() throws Exception {
        byte[] b = new Body().be64(0x1000 | RamFlags.MEM_SIZE).name("pc\u001b[2J\u001b]0;x\u0007").be64(0x1000).eos()
                .build();
        MigrationStreamException e = refused(b);
        assertMessage(e, "Unknown ramblock \"pc\\x1b[2J\\x1b]0;x\\x07\", cannot accept migration", 8);
        assertTrue(e.getMessage().chars().noneMatch(c -> c < 0x20 || c == 0x7f), e.getMessage());
        byte[] page = new Body().be64(RamFlags.ZERO).name("pc.\u009bram").u8(0).eos().build();
        assertMessage(refused(page), "Can't find block pc.\\x9bram", 0);
    }

    @Test
    void badFlagCombinations() throws Exception {
        assertMessage(refused(new Body().be64(RamFlags.FULL).build()), "Unknown combination of migration flags: 0x1", 0);
        byte[] zeroAndPage = new Body().be64(RamFlags.ZERO | RamFlags.PAGE).name("pc.ram").u8(0).build();
        assertMessage(refused(zeroAndPage), "Unknown combination of migration flags: 0xa", 0);
        byte[] page = new byte[PAGE];
        byte[] flush = new Body().be64(RamFlags.PAGE).name("pc.ram").raw(page).be64(0x200).build();
        assertMessage(refused(flush), "Unknown combination of migration flags: 0x200", 8 + 7 + PAGE);
        byte[] hook = new Body().be64(RamFlags.HOOK).build();
        assertMessage(refused(hook), "RDMA hook", 0);
    }

    @Test
    void continueBeforeAnyBlock() throws Exception {
        byte[] b = new Body().be64(RamFlags.ZERO | RamFlags.CONTINUE).u8(0).eos().build();
        assertMessage(refused(b), "before any block was named", 0);
    }

    @Test
    void unknownBlockInAPageRecord() throws Exception {
        byte[] b = new Body().be64(RamFlags.ZERO).name("pc.nope").u8(0).eos().build();
        assertMessage(refused(b), "Can't find block pc.nope", 0);
    }

    @Test
    void compressedPageWithCompressOff() throws Exception {
        byte[] b = new Body().be64(RamFlags.PAGE).name("pc.ram").raw(new byte[PAGE])
                .be64(0x1000 | RamFlags.COMPRESS_PAGE | RamFlags.CONTINUE).be32(10).raw(new byte[10]).eos().build();
        assertMessage(refused(b), "Received an unexpected compressed page", 8 + 7 + PAGE);
    }

    @Test
    void compressedLengthAboveTheBound() throws Exception {
        MigrationSettings compress = MigrationSettings.DEFAULTS.withCapability("compress", true);
        byte[] b = new Body().be64(RamFlags.COMPRESS_PAGE).name("pc.ram").be32(4111).raw(new byte[4111]).eos().build();
        assertMessage(refused(b, compress, 4), "Invalid compressed data length: 4111", 0);
        byte[] neg = new Body().be64(RamFlags.COMPRESS_PAGE).name("pc.ram").be32(-1).eos().build();
        assertMessage(refused(neg, compress, 4), "Invalid compressed data length: -1", 0);
    }

    @Test
    void corruptZlibData() throws Exception {
        MigrationSettings compress = MigrationSettings.DEFAULTS.withCapability("compress", true);
        byte[] junk = "not a zlib stream".getBytes(StandardCharsets.US_ASCII);
        byte[] b = new Body().be64(0x3000 | RamFlags.COMPRESS_PAGE).name("pc.ram").be32(junk.length).raw(junk).eos()
                .build();
        assertMessage(refused(b, compress, 4), "decompress data failed for page 0x3000 of pc.ram", 0);
        // a valid stream that inflates to more than a page
        java.util.zip.Deflater d = new java.util.zip.Deflater(1);
        d.setInput(new byte[8192]);
        d.finish();
        byte[] big = new byte[200];
        int n = d.deflate(big);
        d.end();
        byte[] b2 = new Body().be64(RamFlags.COMPRESS_PAGE).name("pc.ram").be32(n).raw(java.util.Arrays.copyOf(big, n))
                .eos().build();
        assertMessage(refused(b2, compress, 4), "larger than a page", 0);
    }

    @Test
    void xbzrleRecordErrors() throws Exception {
        byte[] wrongEncoding = new Body().be64(RamFlags.XBZRLE).name("pc.ram").u8(2).be16(4).raw(new byte[4]).eos()
                .build();
        assertMessage(refused(wrongEncoding), "wrong compression", 0);
        byte[] tooLong = new Body().be64(RamFlags.XBZRLE).name("pc.ram").u8(1).be16(4097).build();
        assertMessage(refused(tooLong), "len overflow", 0);
        byte[] undecodable = new Body().be64(0x5000 | RamFlags.XBZRLE).name("pc.ram").u8(1).be16(3)
                .raw(new byte[] {0, 5, 1}).eos().build();
        assertMessage(refused(undecodable), "Failed to decompress XBZRLE page at 0x5000 of pc.ram", 0);
    }

    @Test
    void failedXbzrleLeavesThePageUntouched() throws Exception {
        machine.ramBlock("pc.ram").orElseThrow().fill(0x5000, PAGE, (byte) 7);
        byte[] undecodable = new Body().be64(0x5000 | RamFlags.XBZRLE).name("pc.ram").u8(1).be16(5)
                .raw(new byte[] {0, 1, 9, 0, 1}).eos().build();
        refused(undecodable);
        byte[] p = new byte[PAGE];
        machine.ramBlock("pc.ram").orElseThrow().read(0x5000, p, 0, PAGE);
        for (byte x : p) {
            assertEquals(7, x);
        }
    }

    @Test
    void wrongSectionVersion() throws Exception {
        assertMessage(refused(new Body().eos().build(), MigrationSettings.DEFAULTS, 3), "unsupported version 3", 0);
    }

    @Test
    void truncatedPage() throws Exception {
        byte[] b = new Body().be64(RamFlags.PAGE).name("pc.ram").raw(new byte[100]).build();
        MigrationStreamException e = refused(b);
        assertTrue(e.getMessage().contains("unexpected end of stream"), e.getMessage());
    }

    @Test
    void zeroRecordWithAFillByteFillsThePage() throws Exception {
        byte[] b = new Body().be64(0x2000 | RamFlags.ZERO).name("pc.ram").u8(0x5a).eos().build();
        load(b, MigrationSettings.DEFAULTS);
        byte[] p = new byte[PAGE];
        machine.ramBlock("pc.ram").orElseThrow().read(0x2000, p, 0, PAGE);
        for (byte x : p) {
            assertEquals(0x5a, x);
        }
    }
}
