package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.Inflater;

import org.junit.jupiter.api.Test;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.PendingBytes;
import org.savevm.api.machine.RamBlock;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.codec.PageCompression;
import org.savevm.ram.codec.RamFlags;
import org.savevm.ram.codec.XbzrleEncoder;
import org.savevm.stream.MigrationOutput;

/** The "ram" sections of real QEMU 7.2 streams, loaded by our loader and checked against our encoders. */
class CorpusStreamsTest {
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;
    private static final long MIB16 = 16L << 20;

    /** Counts record kinds and checks every XBZRLE and compressed record against our own encoders. */
    private static final class Checker implements RamLoadSession.RecordObserver {
        final int level;
        final Map<Integer, Integer> kinds = new HashMap<>();
        long xbzrleRecords;
        long xbzrleBytes;
        long compressed;
        long namedRecords;
        long compressedWithoutContinue;
        long compressedAfterXbzrle;
        final List<String> namedKinds = new ArrayList<>();
        private final byte[] dst = new byte[PAGE];
        private final PageCompression deflate;

        Checker(int level) {
            this.level = level;
            this.deflate = new PageCompression(level);
        }

        @Override
        public void record(RamBlock block, long addr, int flags) {
            kinds.merge(flags & ~RamFlags.CONTINUE, 1, Integer::sum);
            if ((flags & RamFlags.CONTINUE) == 0) {
                namedRecords++;
                namedKinds.add(block.idstr() + ":" + Integer.toHexString(flags));
            }
            if ((flags & RamFlags.COMPRESS_PAGE) != 0) {
                if ((flags & RamFlags.CONTINUE) == 0) {
                    compressedWithoutContinue++;
                }
                if (xbzrleRecords > 0) {
                    compressedAfterXbzrle++;
                }
            }
        }

        @Override
        public void xbzrle(RamBlock block, long addr, byte[] before, byte[] encoded, int len, byte[] after) {
            xbzrleRecords++;
            xbzrleBytes += 3 + len;
            int ours = XbzrleEncoder.encode(before, after, PAGE, dst, PAGE);
            assertEquals(len, ours, "XBZRLE length at 0x" + Long.toHexString(addr));
            assertArrayEquals(encoded, java.util.Arrays.copyOf(dst, ours), "XBZRLE bytes at 0x" + Long.toHexString(addr));
        }

        @Override
        public void compressed(RamBlock block, long addr, int flags, byte[] data, int len) {
            compressed++;
            byte[] page = new byte[PAGE];
            Inflater inf = new Inflater();
            try {
                inf.setInput(data, 0, len);
                assertEquals(PAGE, inf.inflate(page));
                assertTrue(inf.finished());
            } catch (java.util.zip.DataFormatException e) {
                fail(e);
            } finally {
                inf.end();
            }
            byte[] out = new byte[PageCompression.MAX_COMPRESSED];
            int n = deflate.compress(page, 0, PAGE, out);
            assertArrayEquals(data, java.util.Arrays.copyOf(out, n), "recompressed page 0x" + Long.toHexString(addr));
        }
    }

    private static SimulatedMachine pc16() {
        return new SimulatedMachine("pc-i440fx-7.2", MIB16);
    }

    /**
     * paused/ran: one pass over RAM. Saving the RAM we loaded must give QEMU's records byte for byte (block
     * order, page order, zero pages, CONTINUE, MEM_SIZE). The expected counts are QEMU's query-migrate
     * ram.duplicate and ram.normal from the stream's stats.json.
     */
    private void onePassStreamResavesIdentically(String name, long qemuDuplicate, long qemuNormal) throws Exception {
        byte[] stream = CorpusWalker.resource(name);
        try (SimulatedMachine m = pc16()) {
            RamHandler h = new RamHandler(m);
            Checker checker = new Checker(1);
            List<CorpusWalker.Body> bodies;
            try (LiveStateHandler.LoadSession load = h.beginLoad(new MigrationContext(MigrationSettings.DEFAULTS))) {
                ((RamLoadSession) load).observe(checker);
                bodies = CorpusWalker.loadRam(stream, load);
            }
            assertEquals(qemuDuplicate, (long) checker.kinds.getOrDefault(RamFlags.ZERO, 0));
            assertEquals(qemuNormal, (long) checker.kinds.getOrDefault(RamFlags.PAGE, 0));
            byte[] qemuRecords = CorpusWalker.recordsWithoutEos(stream, bodies);

            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            MigrationOutput out = MigrationOutput.of(bos);
            List<long[]> ourBodies = new ArrayList<>();
            MigrationContext context = new MigrationContext(MigrationSettings.DEFAULTS);
            try (LiveStateHandler.SaveSession save = h.beginSave(context)) {
                long s = out.position();
                save.setup(out);
                ourBodies.add(new long[] {s, out.position()});
                boolean done = false;
                while (!done) {
                    s = out.position();
                    done = save.iterate(out);
                    ourBodies.add(new long[] {s, out.position()});
                }
                assertEquals(PendingBytes.NONE, save.pending(true));
                s = out.position();
                save.completePrecopy(out);
                ourBodies.add(new long[] {s, out.position()});
            }
            out.flush();
            byte[] ours = bos.toByteArray();
            List<CorpusWalker.Body> ob = new ArrayList<>();
            for (long[] b : ourBodies) {
                ob.add(new CorpusWalker.Body(2, b[0], b[1]));
            }
            byte[] ourRecords = CorpusWalker.recordsWithoutEos(ours, ob);
            assertEquals(qemuRecords.length, ourRecords.length, "record bytes");
            assertArrayEquals(qemuRecords, ourRecords);
        }
    }

    @Test
    void pausedStreamLoadsAndOurSaveMatchesQemuByteForByte() throws Exception {
        onePassStreamResavesIdentically("paused-16M.mig", 4177, 49);
    }

    @Test
    void ranStreamLoadsAndOurSaveMatchesQemuByteForByte() throws Exception {
        onePassStreamResavesIdentically("ran-16M.mig", 4115, 111);
    }

    private Checker loadDirty(String name, MigrationSettings settings, int level) throws Exception {
        byte[] stream = CorpusWalker.resource(name);
        try (SimulatedMachine m = pc16()) {
            RamHandler h = new RamHandler(m);
            Checker checker = new Checker(level);
            try (LiveStateHandler.LoadSession load = h.beginLoad(new MigrationContext(settings))) {
                ((RamLoadSession) load).observe(checker);
                List<CorpusWalker.Body> bodies = CorpusWalker.loadRam(stream, load);
                assertTrue(bodies.size() > 10, "many ram sections: " + bodies.size());
            }
            return checker;
        }
    }

    @Test
    void dirtyXbzrleStreamDecodesAndEveryRecordReencodesIdentically() throws Exception {
        Checker c = loadDirty("dirty-xbzrle-16M.mig", MigrationSettings.DEFAULTS.withCapability("xbzrle", true), 1);
        assertTrue(c.xbzrleRecords > 1000, "xbzrle records " + c.xbzrleRecords);
        // QEMU's query-migrate: xbzrle-cache.bytes is the sum of (3 + len) over the records; zero pages
        // are ram.duplicate and full pages ram.normal.
        assertEquals(2480917, c.xbzrleBytes);
        assertEquals(3986, (long) c.kinds.get(RamFlags.ZERO));
        assertEquals(368, (long) c.kinds.get(RamFlags.PAGE));
        assertEquals(0, c.compressed);
    }

    @Test
    void dirtyCompressStreamDecompressesAndRecompressesIdentically() throws Exception {
        Checker c = loadDirty("dirty-compress-16M.mig", MigrationSettings.DEFAULTS.withCapability("compress", true),
                6);
        assertTrue(c.compressed > 1000, "compressed records " + c.compressed);
        assertEquals(0, c.compressedWithoutContinue, "the first page of a block visit is never compressed");
        for (String k : c.namedKinds) {
            assertFalse(k.endsWith(":100"), k);
        }
        assertEquals(0, c.xbzrleRecords);
    }

    @Test
    void dirtyBothStreamHasNoCompressionOnceXbzrleStarted() throws Exception {
        Checker c = loadDirty("dirty-both-16M.mig",
                MigrationSettings.DEFAULTS.withCapability("compress", true).withCapability("xbzrle", true), 1);
        assertTrue(c.compressed > 0);
        assertTrue(c.xbzrleRecords > 1000);
        assertEquals(0, c.compressedAfterXbzrle);
        assertEquals(0, c.compressedWithoutContinue);
        assertEquals(5417978, c.xbzrleBytes);
    }

    @Test
    void compressedStreamIsRefusedWithoutTheCapability() throws Exception {
        byte[] stream = CorpusWalker.resource("dirty-compress-16M.mig");
        try (SimulatedMachine m = pc16()) {
            RamHandler h = new RamHandler(m);
            try (LiveStateHandler.LoadSession load = h.beginLoad(new MigrationContext(MigrationSettings.DEFAULTS))) {
                IOException e = assertThrows(IOException.class, () -> CorpusWalker.loadRam(stream, load));
                assertTrue(e.getMessage().contains("Received an unexpected compressed page"), e.getMessage());
                assertTrue(e.getMessage().contains("at byte offset"), e.getMessage());
            }
        }
    }
}
