package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.PendingBytes;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamMigrationMonitor;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.codec.RamFlags;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/** Save → load of RAM through memory streams with the guest changing pages between iterations. */
class RoundTripTest {
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;

    static Stream<Arguments> settings() {
        MigrationSettings none = MigrationSettings.DEFAULTS;
        return Stream.of(
                Arguments.of("plain", none),
                Arguments.of("xbzrle", none.withCapability("xbzrle", true)),
                Arguments.of("xbzrle-small-cache", none.withCapability("xbzrle", true)
                        .withParameter("xbzrle-cache-size", 16 * PAGE)),
                Arguments.of("compress", none.withCapability("compress", true).withParameter("compress-threads", 3)),
                Arguments.of("compress-nowait", none.withCapability("compress", true)
                        .withParameter("compress-threads", 1).withParameter("compress-wait-thread", 0)),
                Arguments.of("compress-level9", none.withCapability("compress", true)
                        .withParameter("compress-level", 9).withParameter("decompress-threads", 4)),
                Arguments.of("xbzrle+compress", none.withCapability("xbzrle", true).withCapability("compress", true)));
    }

    /** Random guest activity: small changes (good for XBZRLE), whole new pages, zeroed pages. */
    static void mutate(SimulatedMachine m, Random rnd, int writes) {
        RamBlock ram = m.ramBlock("pc.ram").orElseThrow();
        byte[] buf = new byte[PAGE];
        long pages = ram.pages();
        for (int i = 0; i < writes; i++) {
            long page = rnd.nextInt(4) == 0 ? rnd.nextLong(pages) : rnd.nextLong(Math.min(64, pages));
            long base = page * PAGE;
            switch (rnd.nextInt(5)) {
                case 0 -> ram.fill(base, PAGE, (byte) 0);
                case 1 -> {
                    rnd.nextBytes(buf);
                    ram.write(base, buf, 0, PAGE);
                }
                default -> {
                    int len = 1 + rnd.nextInt(100);
                    rnd.nextBytes(buf);
                    ram.write(base + rnd.nextInt(PAGE - len), buf, 0, len);
                }
            }
        }
        RamBlock tables = m.ramBlock("/rom@etc/acpi/tables").orElseThrow();
        tables.write(rnd.nextInt((int) tables.usedLength() - 8), new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, 0, 8);
    }

    private static void loadAll(byte[] stream, LiveStateHandler.LoadSession load) throws Exception {
        MigrationInput in = MigrationInput.of(stream);
        while (!in.atEnd()) {
            load.load(in, 4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("settings")
    void ramArrivesIdenticalWhileTheGuestKeepsWriting(String name, MigrationSettings settings) throws Exception {
        Random rnd = new Random(name.hashCode());
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 4L << 20);
                SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", 4L << 20)) {
            mutate(src, rnd, 600);
            RamHandler h = new RamHandler(src);
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            MigrationOutput out = MigrationOutput.of(bos);
            MigrationContext context = new MigrationContext(settings);
            try (LiveStateHandler.SaveSession save = h.beginSave(context)) {
                save.setup(out);
                for (int round = 0; round < 8; round++) {
                    while (!save.iterate(out)) {
                        // keep sending until this pass found nothing dirty
                    }
                    mutate(src, rnd, 80);
                    save.pending(true);
                }
                mutate(src, rnd, 30);
                save.completePrecopy(out);
                RamMigrationStats stats = context.find(RamMigrationMonitor.class).orElseThrow().stats();
                out.flush();
                assertEquals(bos.size(), stats.transferred(), "transferred counts every byte written");
                assertEquals(0, stats.remaining());
                assertEquals(src.ramSize(), stats.total());
                assertTrue(stats.dirtySyncCount() >= 10);
                if (settings.capability("xbzrle")) {
                    assertTrue(stats.xbzrlePages() > 0, "xbzrle used");
                    assertTrue(stats.xbzrleCacheMiss() > 0);
                }
                if (settings.capability("compress")) {
                    assertTrue(stats.compressedPages() > 0, "compression used");
                }
                if (name.equals("xbzrle-small-cache")) {
                    assertTrue(stats.xbzrleCacheMiss() > stats.xbzrlePages() / 4, "small cache misses often");
                }
            }
            try (LiveStateHandler.LoadSession load = new RamHandler(dst).beginLoad(new MigrationContext(settings))) {
                loadAll(bos.toByteArray(), load);
            }
            assertEquals(src.ramHash(), dst.ramHash());
        }
    }

    @Test
    void workloadThreadDirtyingDuringTheMigration() throws Exception {
        MigrationSettings settings = MigrationSettings.DEFAULTS.withCapability("xbzrle", true);
        WorkloadSpec spec = new WorkloadSpec(16L << 20, 32, 0.05, 0.95, 0.1, 11);
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 8L << 20, spec);
                SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", 8L << 20)) {
            RamHandler h = new RamHandler(src);
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            MigrationOutput out = MigrationOutput.of(bos);
            src.workload().resume();
            MigrationContext context = new MigrationContext(settings);
            try (LiveStateHandler.SaveSession save = h.beginSave(context)) {
                save.setup(out);
                for (int i = 0; i < 30; i++) {
                    save.iterate(out);
                    save.pending(true);
                    Thread.sleep(5);
                }
                src.workload().pause();
                save.completePrecopy(out);
                assertTrue(src.workload().bytesWritten() > 0);
                RamMigrationStats stats = context.find(RamMigrationMonitor.class).orElseThrow().stats();
                assertTrue(stats.xbzrlePages() > 0, "pages resent as XBZRLE");
            }
            out.flush();
            try (LiveStateHandler.LoadSession load = new RamHandler(dst).beginLoad(new MigrationContext(settings))) {
                loadAll(bos.toByteArray(), load);
            }
            assertEquals(src.ramHash(), dst.ramHash());
        }
    }

    @Test
    void xbzrleStartsOnTheThirdVisitOfAPage() throws Exception {
        MigrationSettings settings = MigrationSettings.DEFAULTS.withCapability("xbzrle", true);
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 1L << 20)) {
            RamBlock ram = src.ramBlock("pc.ram").orElseThrow();
            RamHandler h = new RamHandler(src);
            MigrationOutput out = MigrationOutput.of(new ByteArrayOutputStream());
            MigrationContext context = new MigrationContext(settings);
            try (LiveStateHandler.SaveSession save = h.beginSave(context)) {
                save.setup(out);
                int[] xbzrlePagesAfterVisit = new int[3];
                for (int visit = 0; visit < 3; visit++) {
                    ram.write(100, new byte[] {(byte) (visit + 1)}, 0, 1);
                    if (visit > 0) {
                        save.pending(true);
                    }
                    while (!save.iterate(out)) {
                    }
                    xbzrlePagesAfterVisit[visit] = (int) context.find(RamMigrationMonitor.class).orElseThrow().stats().xbzrlePages();
                }
                assertArrayEquals(new int[] {0, 0, 1}, xbzrlePagesAfterVisit);
                assertEquals(1, context.find(RamMigrationMonitor.class).orElseThrow().stats().xbzrleCacheMiss());
            }
        }
    }

    @Test
    void iterationStopsAtTheRateLimitAndWritesEos() throws Exception {
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 4L << 20)) {
            mutate(src, new Random(3), 2000);
            RamHandler h = new RamHandler(src);
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            MigrationOutput out = MigrationOutput.of(bos);
            MigrationContext context = new MigrationContext(MigrationSettings.DEFAULTS);
            try (LiveStateHandler.SaveSession save = h.beginSave(context)) {
                save.setup(out);
                long start = out.position();
                long[] budget = {start + 20_000};
                out.setRateLimiter(written -> written >= budget[0]);
                assertFalse(save.iterate(out), "stopped by the rate limit");
                long used = out.position() - start;
                assertTrue(used < 20_000 + 2 * PAGE, "sent " + used);
                PendingBytes p = save.pending(false);
                assertTrue(p.mustPrecopy() > 0);
                out.flush();
                byte[] b = bos.toByteArray();
                assertEquals(RamFlags.EOS, java.nio.ByteBuffer.wrap(b, b.length - 8, 8).getLong());
            }
        }
    }

    @Test
    void iterationIsBoundedInTime() throws Exception {
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 4L << 20)) {
            mutate(src, new Random(4), 2000);
            long[] now = {0};
            // each clock read advances 5 ms: the 50 ms budget runs out after a few checks every 64 pages
            RamSaveSession s = new RamSaveSession(src.ramBlocks(), MigrationSettings.DEFAULTS, null, () -> now[0] += 5_000_000L,
                    new RamSaveStats());
            MigrationOutput out = MigrationOutput.of(new ByteArrayOutputStream());
            s.setup(out);
            long before = s.dirtyPages();
            assertFalse(s.iterate(out));
            long sent = before - s.dirtyPages();
            assertTrue(sent > 64 && sent < before, "pages sent in one iteration: " + sent + " of " + before);
            s.close();
        }
    }
}
