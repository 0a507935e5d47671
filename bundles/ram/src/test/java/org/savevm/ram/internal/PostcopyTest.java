package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.PendingBytes;
import org.savevm.api.machine.PageRange;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamMigrationMonitor;
import org.savevm.api.machine.RamPostcopyDestination;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.codec.RamFlags;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/** Postcopy RAM: discard ranges, page requests served first, a faulting destination guest. */
class PostcopyTest {
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;
    private static final MigrationSettings POSTCOPY = MigrationSettings.DEFAULTS.withCapability("postcopy-ram", true);

    private static void fillPages(RamBlock ram, long from, long to, Random rnd) {
        byte[] b = new byte[PAGE];
        for (long p = from; p < to; p++) {
            rnd.nextBytes(b);
            ram.write(p * PAGE, b, 0, PAGE);
        }
    }

    @Test
    void discardRangesAreTheDirtyPagesAndPendingMayFollowTheSwitchover() throws Exception {
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 1L << 20)) {
            RamBlock ram = src.ramBlock("pc.ram").orElseThrow();
            RamHandler h = new RamHandler(src);
            MigrationOutput out = MigrationOutput.of(new ByteArrayOutputStream());
            MigrationContext context = new MigrationContext(POSTCOPY);
            try (LiveStateHandler.SaveSession save = h.beginSave(context)) {
                save.setup(out);
                while (!save.iterate(out)) {
                }
                fillPages(ram, 3, 6, new Random(1));
                fillPages(ram, 9, 10, new Random(2));
                PendingBytes p = save.pending(true);
                assertEquals(new PendingBytes(0, 4 * PAGE), p);
                RamPostcopySource pc = context.find(RamPostcopySource.class).orElseThrow();
                assertFalse(pc.inPostcopy());
                List<PageRange> ranges = pc.startPostcopy();
                assertEquals(List.of(new PageRange("pc.ram", 3 * PAGE, 3 * PAGE), new PageRange("pc.ram", 9 * PAGE, PAGE)),
                        ranges);
                assertTrue(pc.inPostcopy());
                assertThrows(IllegalArgumentException.class, () -> pc.requestPages("nope", 0, PAGE));
                assertThrows(IllegalArgumentException.class, () -> pc.requestPages("pc.ram", 1L << 20, PAGE));
            }
            MigrationContext precopyOnly = new MigrationContext(MigrationSettings.DEFAULTS);
            try (LiveStateHandler.SaveSession save = h.beginSave(precopyOnly)) {
                assertTrue(precopyOnly.find(RamPostcopySource.class).isEmpty(), "only with postcopy-ram");
            }
        }
    }

    @Test
    void requestedPageGoesFirstAndXbzrleStops() throws Exception {
        MigrationSettings s = POSTCOPY.withCapability("xbzrle", true);
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 1L << 20)) {
            RamBlock ram = src.ramBlock("pc.ram").orElseThrow();
            RamHandler h = new RamHandler(src);
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            MigrationOutput out = MigrationOutput.of(bos);
            MigrationContext context = new MigrationContext(s);
            try (LiveStateHandler.SaveSession save = h.beginSave(context)) {
                save.setup(out);
                for (int round = 0; round < 3; round++) {
                    fillPages(ram, 0, 200, new Random(round));
                    save.pending(true);
                    while (!save.iterate(out)) {
                    }
                }
                long xbzrleBefore = context.find(RamMigrationMonitor.class).orElseThrow().stats().xbzrlePages();
                assertTrue(xbzrleBefore > 0);
                ram.write(150L * PAGE + 7, new byte[] {1}, 0, 1);
                ram.write(20L * PAGE + 7, new byte[] {1}, 0, 1);
                RamPostcopySource pc = context.find(RamPostcopySource.class).orElseThrow();
                pc.startPostcopy();
                pc.requestPages("pc.ram", 150L * PAGE, PAGE);
                out.flush();
                int start = bos.size();
                save.iterate(out);
                out.flush();
                long header = ByteBuffer.wrap(bos.toByteArray(), start, 8).getLong();
                assertEquals(150L * PAGE, header & RamFlags.TARGET_PAGE_MASK, "requested page first");
                assertEquals(RamFlags.PAGE, (int) (header & ~RamFlags.TARGET_PAGE_MASK) & ~RamFlags.CONTINUE);
                assertEquals(xbzrleBefore, context.find(RamMigrationMonitor.class).orElseThrow().stats().xbzrlePages(), "no XBZRLE in postcopy");
            }
        }
    }

    @Test
    void destinationRefusesXbzrleInPostcopyMode() throws Exception {
        try (SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", 1L << 20)) {
            RamHandler h = new RamHandler(dst);
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            MigrationOutput o = MigrationOutput.of(bos);
            o.putBe64(RamFlags.XBZRLE).putCountedString("pc.ram").putByte(1).putBe16(4).putBytes(new byte[] {0, 1, 5, 0});
            o.flush();
            MigrationContext context = new MigrationContext(POSTCOPY);
            try (LiveStateHandler.LoadSession load = h.beginLoad(context)) {
                RamPostcopyDestination d = context.find(RamPostcopyDestination.class).orElseThrow();
                d.listen();
                MigrationStreamException e = assertThrows(MigrationStreamException.class,
                        () -> load.load(MigrationInput.of(bos.toByteArray()), 4));
                assertTrue(e.getMessage().contains("Unknown combination of migration flags: 0x40 (postcopy mode)"),
                        e.getMessage());
            }
        }
    }

    /**
     * The whole postcopy flow over a pipe: precopy pass, switchover with discards, then the destination
     * guest writes into a page that has not arrived; it faults, the request reaches the source, the page
     * comes first, and the guest's write lands on top of it, never overwritten by a late copy.
     */
    @Test
    void faultingDestinationGuestGetsItsPageAndKeepsItsWrite() throws Exception {
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 4L << 20);
                SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", 4L << 20)) {
            RamBlock sram = src.ramBlock("pc.ram").orElseThrow();
            RamBlock dram = dst.ramBlock("pc.ram").orElseThrow();
            fillPages(sram, 0, 1024, new Random(7));
            RamHandler sh = new RamHandler(src);
            RamHandler dh = new RamHandler(dst);

            // precopy part, loaded synchronously
            ByteArrayOutputStream pre = new ByteArrayOutputStream();
            MigrationOutput preOut = MigrationOutput.of(pre);
            MigrationContext srcContext = new MigrationContext(POSTCOPY);
            LiveStateHandler.SaveSession save = sh.beginSave(srcContext);
            save.setup(preOut);
            while (!save.iterate(preOut)) {
            }
            preOut.flush();
            MigrationContext dstContext = new MigrationContext(POSTCOPY);
            LiveStateHandler.LoadSession load = dh.beginLoad(dstContext);
            MigrationInput preIn = MigrationInput.of(pre.toByteArray());
            while (!preIn.atEnd()) {
                load.load(preIn, 4);
            }

            // the source guest dirties pages 100..499 once more, then stops: the switchover
            fillPages(sram, 100, 500, new Random(8));
            RamPostcopySource source = srcContext.find(RamPostcopySource.class).orElseThrow();
            RamPostcopyDestination dest = dstContext.find(RamPostcopyDestination.class).orElseThrow();
            for (PageRange r : source.startPostcopy()) {
                dest.discard(r);
            }
            dest.listen();
            assertEquals(400, dest.missingPages());
            byte[] expected = new byte[(int) sram.usedLength()];
            sram.read(0, expected, 0, expected.length);

            // the destination guest will fault on page 450; its requests travel like the return path
            ConcurrentLinkedQueue<Long> faults = new ConcurrentLinkedQueue<>();
            dram.setPageFaultHandler((idstr, offset) -> {
                faults.add(offset);
                source.requestPages(idstr, offset, PAGE);
            }, 20_000);

            PipedInputStream pipeIn = new PipedInputStream(1 << 20);
            PipedOutputStream pipeOut = new PipedOutputStream(pipeIn);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread loader = new Thread(() -> {
                try {
                    MigrationInput in = MigrationInput.of(pipeIn);
                    while (!in.atEnd()) {
                        load.load(in, 4);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            loader.start();
            Thread guest = new Thread(() -> {
                try {
                    dram.write(450L * PAGE + 10, new byte[] {(byte) 0xEE}, 0, 1);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            MigrationOutput out = MigrationOutput.of(pipeOut);
            // throttle the source so the page would arrive late without the request
            long[] budget = {0};
            out.setRateLimiter(w -> w >= budget[0]);
            guest.start();
            Thread.sleep(50);
            int rounds = 0;
            boolean done = false;
            while (!done) {
                budget[0] = out.position() + 8 * PAGE;
                done = save.iterate(out);
                out.flush();
                if (++rounds > 10_000) {
                    fail("postcopy never finished");
                }
                Thread.sleep(1);
            }
            out.setRateLimiter(null);
            save.completePostcopy(out);
            out.close();
            guest.join(20_000);
            loader.join(20_000);
            save.close();
            load.close();
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(List.of(450L * PAGE), List.copyOf(faults));
            assertEquals(0, dest.missingPages());
            expected[450 * PAGE + 10] = (byte) 0xEE;
            byte[] got = new byte[expected.length];
            dram.read(0, got, 0, got.length);
            assertArrayEquals(expected, got);
        }
    }
}
