package org.savevm.core.postcopy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.api.migration.Incoming;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.Outgoing;
import org.savevm.api.migration.PostcopyBlocktime;
import org.savevm.core.SaveVmService;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.ram.internal.RamFeatures;
import org.savevm.ram.internal.RamHandler;
import org.savevm.registry.internal.HandlerRegistry;
import org.savevm.vmstate.internal.VMStateEngineComponent;

/**
 * Postcopy with nothing faked: on each end the real core ({@link SaveVmService} over the real registry), the real
 * "ram" handler on a simulated machine and the real orchestrator ({@link MigrationManager}), over loopback TCP.
 * The source guest dirties all of RAM faster than max-bandwidth, so precopy alone would never converge; the
 * source switches to postcopy half way through the first pass, and a destination "vCPU" reads random pages
 * while the rest arrives: every page it reads already holds the source's final content, and afterwards both
 * machines' RAM is byte for byte the same.
 */
class PostcopyEndToEndTest {
    static final long RAM = 32L << 20;

    /** One end: a machine, a core with the ram handler, an orchestrator. */
    record End(SimulatedMachine machine, MigrationManager manager) implements AutoCloseable {
        static End create(WorkloadSpec workload) {
            return create(workload, Map.of());
        }

        static End create(WorkloadSpec workload, Map<String, Integer> pageSizes) {
            SimulatedMachine m = new SimulatedMachine("pc-i440fx-7.2", RAM, workload, pageSizes);
            HandlerRegistry registry = new HandlerRegistry();
            registry.add(new RamHandler(m), "org.savevm.ram");
            SaveVmService core = new SaveVmService(registry, new VMStateEngineComponent(Map.of()), Map.of());
            MigrationManager manager = new MigrationManager(core, m);
            manager.addFeatures(new RamFeatures());
            return new End(m, manager);
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    /**
     * release-ram and postcopy-blocktime: the source gives back every page it sent in postcopy (it reads as
     * zeros there afterwards), the destination still ends with the RAM the source had, and it measured how
     * long its vCPU waited for pages.
     */
    @Test
    void releaseRamGivesBackSentPagesAndBlocktimeMeasuresTheWaits() throws Exception {
        try (End src = End.create(dirtying(0)); End dst = End.create(dirtying(0))) {
            fillRandom(src.machine(), 6);
            Map<String, String> before = new java.util.HashMap<>();
            for (RamBlock b : src.machine().ramBlocks()) {
                before.put(b.idstr(), java.util.HexFormat.of().formatHex(b.sha256()));
            }
            for (End e : new End[] {src, dst}) {
                e.manager().setCapability("postcopy-ram", true);
                e.manager().setCapability("release-ram", true);
                e.manager().setCapability("postcopy-blocktime", true);
            }
            src.manager().setParameter("max-bandwidth", "16M");
            Incoming in = dst.manager().incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
            Outgoing o = migrateSwitchingAfter(src, in.address(), RAM / 2, status -> { });
            AtomicLong reads = new AtomicLong();
            Thread vcpu = new Thread(() -> {
                Random rnd = new Random(23);
                RamBlock d = dst.machine().ramBlock("pc.ram").orElseThrow();
                byte[] got = new byte[64];
                while (in.status() != MigrationStatus.POSTCOPY_ACTIVE && in.status().running()) {
                    Thread.onSpinWait();
                }
                while (in.status() == MigrationStatus.POSTCOPY_ACTIVE) {
                    d.read(rnd.nextLong(d.pages()) * RamBlock.TARGET_PAGE_SIZE, got, 0, got.length);
                    reads.incrementAndGet();
                }
            }, "dst-vcpu");
            vcpu.start();
            assertTrue(o.await(120, TimeUnit.SECONDS), "the migration ended");
            assertTrue(in.await(30, TimeUnit.SECONDS), "the load ended");
            vcpu.join(10_000);
            assertEquals(MigrationStatus.COMPLETED, o.info().status(), String.valueOf(o.info().errorDesc()));
            assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
            for (RamBlock d : dst.machine().ramBlocks()) {
                assertEquals(before.get(d.idstr()), java.util.HexFormat.of().formatHex(d.sha256()), d.idstr());
            }
            // random content has no zero page: a zero page on the source was given back after it went out
            RamBlock s = src.machine().ramBlock("pc.ram").orElseThrow();
            long released = 0;
            for (long off = 0; off < s.usedLength(); off += RamBlock.TARGET_PAGE_SIZE) {
                if (s.isZero(off, RamBlock.TARGET_PAGE_SIZE)) {
                    released++;
                }
            }
            long postcopyPages = o.info().postcopyBytes() / RamBlock.TARGET_PAGE_SIZE;
            assertTrue(postcopyPages > 0, o.info().toQmp().toString());
            assertTrue(released >= s.pages() / 4, "pages sent in postcopy were released: " + released + " of "
                    + s.pages());
            PostcopyBlocktime bt = in.info().blocktime();
            assertTrue(bt != null, "postcopy-blocktime on: the destination reports it");
            Map<String, Object> qmp = in.info().toQmp();
            assertEquals(bt.total(), qmp.get("postcopy-blocktime"));
            assertEquals(bt.vcpu(), qmp.get("postcopy-vcpu-blocktime"));
            if (o.info().postcopyRequests() > 0) {
                assertEquals(1, bt.vcpu().size(), "one guest thread faulted: " + bt);
            }
        }
    }

    static final int HUGE = 2 << 20;

    /**
     * pc.ram backed by 2 MiB pages on both ends: ADVISE carries 0x201000, discards and sends come in whole host
     * pages, and the destination makes a host page visible only once all 512 of its target pages are in. The
     * destination's vCPU faults on single target pages; whenever its read returns, the raw bytes of the whole
     * host page (read without waiting) are already the source's: it never sees half a host page.
     */
    @Test
    void hugePagesArePlacedWhole() throws Exception {
        Map<String, Integer> huge = Map.of("pc.ram", HUGE);
        try (End src = End.create(dirtying(64L << 20), huge); End dst = End.create(dirtying(0), huge)) {
            fillRandom(src.machine(), 8);
            for (End e : new End[] {src, dst}) {
                e.manager().setCapability("postcopy-ram", true);
            }
            src.manager().setParameter("max-bandwidth", "16M");
            Incoming in = dst.manager().incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
            src.manager().guest().start();
            Outgoing o = migrateSwitchingAfter(src, in.address(), RAM / 2, status -> { });
            AtomicLong checked = new AtomicLong();
            AtomicReference<String> half = new AtomicReference<>();
            Thread vcpu = new Thread(() -> {
                Random rnd = new Random(29);
                RamBlock d = dst.machine().ramBlock("pc.ram").orElseThrow();
                RamBlock s = src.machine().ramBlock("pc.ram").orElseThrow();
                byte[] one = new byte[16];
                while (in.status() != MigrationStatus.POSTCOPY_ACTIVE && in.status().running()) {
                    Thread.onSpinWait();
                }
                while (in.status() == MigrationStatus.POSTCOPY_ACTIVE && half.get() == null) {
                    long target = rnd.nextLong(d.pages()) * RamBlock.TARGET_PAGE_SIZE;
                    d.read(target, one, 0, one.length); // faults on the host page if missing
                    long host = target / HUGE * HUGE;
                    for (long off = host; off < host + HUGE; off += RamBlock.TARGET_PAGE_SIZE) {
                        if (!d.page(off).equals(s.page(off))) {
                            half.set("host page 0x" + Long.toHexString(host) + " visible while its target page 0x"
                                    + Long.toHexString(off) + " is not in yet");
                            break;
                        }
                    }
                    checked.incrementAndGet();
                }
            }, "dst-vcpu");
            vcpu.start();
            assertTrue(o.await(120, TimeUnit.SECONDS), "the migration ended");
            assertTrue(in.await(30, TimeUnit.SECONDS), "the load ended");
            vcpu.join(10_000);
            MigrationInfo info = o.info();
            assertEquals(MigrationStatus.COMPLETED, info.status(), String.valueOf(info.errorDesc()));
            assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
            assertNull(half.get());
            assertTrue(checked.get() > 0, "the destination read pages during postcopy");
            assertTrue(info.postcopyRequests() > 0, info.toQmp().toString());
            for (RamBlock s : src.machine().ramBlocks()) {
                RamBlock d = dst.machine().ramBlock(s.idstr()).orElseThrow();
                assertEquals(0, d.missingPages(), s.idstr());
                assertArrayEquals(s.sha256(), d.sha256(), s.idstr());
            }
        }
    }

    /** Different host page sizes on the two ends: the destination refuses ADVISE with QEMU's message. */
    @Test
    void hugePagesOnOneEndOnlyAreRefusedAtAdvise() throws Exception {
        try (End src = End.create(dirtying(0), Map.of("pc.ram", HUGE)); End dst = End.create(dirtying(0))) {
            for (End e : new End[] {src, dst}) {
                e.manager().setCapability("postcopy-ram", true);
            }
            Incoming in = dst.manager().incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
            Outgoing o = src.manager().migrate(in.address(), MigrationListener.NONE);
            assertTrue(in.await(60, TimeUnit.SECONDS));
            assertTrue(o.await(60, TimeUnit.SECONDS));
            assertEquals(MigrationStatus.FAILED, in.status());
            assertTrue(in.error().contains("Postcopy needs matching RAM page sizes (s=201000 d=1000)"), in.error());
            assertEquals(MigrationStatus.FAILED, o.status());
        }
    }

    /**
     * Postcopy recovery: the link breaks twice after the switch. Each time both ends pause (postcopy-paused),
     * the guest keeps running on the destination with every page it has, migrate-recover and migrate -r
     * connect a new link, RECV_BITMAP tells the source what arrived, POSTCOPY_RESUME / RESUME_ACK finish the
     * handshake, and the migration goes on. At the end the destination holds the source's RAM; every page
     * its vCPU read on the way was final.
     */
    @Test
    void aBrokenLinkAfterTheSwitchPausesAndRecoversTwice() throws Exception {
        try (End src = End.create(dirtying(64L << 20)); End dst = End.create(dirtying(0))) {
            fillRandom(src.machine(), 9);
            for (End e : new End[] {src, dst}) {
                e.manager().setCapability("postcopy-ram", true);
            }
            src.manager().setParameter("max-bandwidth", "16M");
            // slow postcopy, so that the link can break in the middle of it
            src.manager().setParameter("max-postcopy-bandwidth", "8M");
            Incoming in = dst.manager().incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
            src.manager().guest().start();
            BreakableLink link = new BreakableLink(org.savevm.api.migration.MigrationUri.parse(in.address()).port());
            java.util.List<MigrationStatus> srcStates = new java.util.concurrent.CopyOnWriteArrayList<>();
            Outgoing o = migrateSwitchingAfter(src, link.uri(), RAM / 2, srcStates::add);
            AtomicLong reads = new AtomicLong();
            AtomicReference<String> wrong = new AtomicReference<>();
            Thread vcpu = new Thread(() -> {
                Random rnd = new Random(31);
                RamBlock d = dst.machine().ramBlock("pc.ram").orElseThrow();
                RamBlock s = src.machine().ramBlock("pc.ram").orElseThrow();
                byte[] got = new byte[RamBlock.TARGET_PAGE_SIZE];
                byte[] want = new byte[RamBlock.TARGET_PAGE_SIZE];
                while (in.status() != MigrationStatus.POSTCOPY_ACTIVE && in.status().running()) {
                    Thread.onSpinWait();
                }
                while (in.status().running()) {
                    long off = rnd.nextLong(d.pages()) * RamBlock.TARGET_PAGE_SIZE;
                    d.read(off, got, 0, got.length);
                    s.read(off, want, 0, want.length);
                    if (!java.util.Arrays.equals(got, want) && wrong.get() == null) {
                        wrong.set("pc.ram page 0x" + Long.toHexString(off) + " read before its final content");
                    }
                    reads.incrementAndGet();
                }
            }, "dst-vcpu");
            vcpu.start();

            for (int cut = 0; cut < 2; cut++) {
                long at = (cut + 1) * (2L << 20);
                // the guest runs on the destination (RUN processed) and postcopy is under way
                awaitTrue(() -> (in.status() == MigrationStatus.POSTCOPY_ACTIVE && o.info().postcopyBytes() >= at)
                        || !o.status().running(), "postcopy under way");
                assertEquals(MigrationStatus.POSTCOPY_ACTIVE, o.status(), "still in postcopy at cut " + cut);
                link.close();
                awaitTrue(() -> o.status() == MigrationStatus.POSTCOPY_PAUSED, "source paused");
                awaitTrue(() -> in.status() == MigrationStatus.POSTCOPY_PAUSED, () -> "destination paused, is " + in.status() + " " + in.error());
                assertTrue(dst.machine().workload().running(), "the guest keeps running on the destination");
                long readsWhilePaused = reads.get();
                String recoverAt = in.recover("tcp:127.0.0.1:0");
                link = new BreakableLink(org.savevm.api.migration.MigrationUri.parse(recoverAt).port());
                o.resume(link.uri());
                awaitTrue(() -> o.status() != MigrationStatus.POSTCOPY_PAUSED
                        && o.status() != MigrationStatus.POSTCOPY_RECOVER, "source resumed");
                assertTrue(reads.get() >= readsWhilePaused);
            }
            assertTrue(o.await(40, TimeUnit.SECONDS), () -> "the migration ended: "
                    + ((org.savevm.migration.outgoing.OutgoingMigration) o).pausedBecause() + " " + o.info().toQmp() + " / "
                    + in.status() + " " + in.info().toQmp());
            assertTrue(in.await(30, TimeUnit.SECONDS), "the load ended");
            vcpu.join(10_000);
            link.close();
            MigrationInfo info = o.info();
            assertEquals(MigrationStatus.COMPLETED, info.status(), String.valueOf(info.errorDesc()));
            assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
            assertNull(wrong.get());
            assertEquals(2, java.util.Collections.frequency(srcStates, MigrationStatus.POSTCOPY_PAUSED), srcStates.toString());
            assertEquals(2, java.util.Collections.frequency(srcStates, MigrationStatus.POSTCOPY_RECOVER), srcStates.toString());
            for (RamBlock s : src.machine().ramBlocks()) {
                RamBlock d = dst.machine().ramBlock(s.idstr()).orElseThrow();
                assertEquals(0, d.missingPages(), s.idstr());
                assertArrayEquals(s.sha256(), d.sha256(), s.idstr());
            }
        }
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        awaitTrue(condition, () -> what);
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition, java.util.function.Supplier<String> what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what.get());
            }
            Thread.sleep(5);
        }
    }

    static void fillRandom(SimulatedMachine m, long seed) {
        Random rnd = new Random(seed);
        byte[] page = new byte[RamBlock.TARGET_PAGE_SIZE];
        for (RamBlock b : m.ramBlocks()) {
            for (long off = 0; off < b.usedLength(); off += page.length) {
                rnd.nextBytes(page);
                b.write(off, page, 0, page.length);
            }
        }
    }

    static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * Migrates {@code src} to {@code uri} and switches to postcopy once {@code switchAfter} bytes of RAM have gone
     * (from the progress callback, as a user watching info-migrate would); every state the source passes is
     * handed to {@code states}.
     */
    static Outgoing migrateSwitchingAfter(End src, String uri, long switchAfter,
            java.util.function.Consumer<MigrationStatus> states) {
        AtomicReference<Outgoing> out = new AtomicReference<>();
        Outgoing o = src.manager().migrate(uri, new MigrationListener() {
            @Override
            public void progress(MigrationInfo info) {
                Outgoing self = out.get();
                if (self != null && info.ram() != null && info.ram().transferred() >= switchAfter) {
                    self.startPostcopy();
                }
            }

            @Override
            public void stateChanged(MigrationStatus status, MigrationInfo info) {
                states.accept(status);
            }
        });
        out.set(o);
        return o;
    }

    /** The guest dirties whole pages anywhere in RAM at {@code rate} bytes/s. */
    static WorkloadSpec dirtying(long rate) {
        return new WorkloadSpec(rate, RamBlock.TARGET_PAGE_SIZE, 1.0, 0.0, 0.0, 11);
    }

    @Test
    void postcopyCompletesWithTheDestinationReadingFinalPagesThroughout() throws Exception {
        try (End src = End.create(dirtying(64L << 20)); End dst = End.create(dirtying(0))) {
            fillRandom(src.machine(), 5);
            for (End e : new End[] {src, dst}) {
                e.manager().setCapability("postcopy-ram", true);
            }
            src.manager().setParameter("max-bandwidth", "16M");
            Incoming in = dst.manager().incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
            src.manager().guest().start();

            Outgoing o = migrateSwitchingAfter(src, in.address(), RAM / 2, status -> { });

            // the destination's vCPU: reads pages in postcopy, each must be the source's (stopped) content
            AtomicLong reads = new AtomicLong();
            AtomicReference<String> wrong = new AtomicReference<>();
            Thread vcpu = new Thread(() -> {
                Random rnd = new Random(17);
                RamBlock d = dst.machine().ramBlock("pc.ram").orElseThrow();
                RamBlock s = src.machine().ramBlock("pc.ram").orElseThrow();
                byte[] got = new byte[RamBlock.TARGET_PAGE_SIZE];
                byte[] want = new byte[RamBlock.TARGET_PAGE_SIZE];
                while (in.status() != MigrationStatus.POSTCOPY_ACTIVE && in.status().running()) {
                    Thread.onSpinWait();
                }
                while (in.status() == MigrationStatus.POSTCOPY_ACTIVE) {
                    long off = rnd.nextLong(d.pages()) * RamBlock.TARGET_PAGE_SIZE;
                    d.read(off, got, 0, got.length);
                    s.read(off, want, 0, want.length);
                    if (!java.util.Arrays.equals(got, want) && wrong.get() == null) {
                        wrong.set("pc.ram page 0x" + Long.toHexString(off) + " read before its final content");
                    }
                    reads.incrementAndGet();
                }
            }, "dst-vcpu");
            vcpu.start();

            assertTrue(o.await(120, TimeUnit.SECONDS), "the migration ended");
            assertTrue(in.await(30, TimeUnit.SECONDS), "the load ended");
            vcpu.join(10_000);
            MigrationInfo info = o.info();
            assertEquals(MigrationStatus.COMPLETED, info.status(), String.valueOf(info.errorDesc()));
            assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
            assertNull(wrong.get());
            assertTrue(reads.get() > 0, "the destination read pages during postcopy");
            assertTrue(info.postcopyRequests() > 0, "faulting reads asked for pages: " + info.toQmp());
            assertTrue(info.postcopyBytes() > RAM / 4, "what the source had not sent went in postcopy: " + info.toQmp());
            assertNull(in.info().blocktime(), "postcopy-blocktime is off");
            assertTrue(dst.machine().workload().running(), "the guest runs on the destination");
            assertTrue(!src.machine().workload().running(), "and not on the source");
            for (RamBlock s : src.machine().ramBlocks()) {
                RamBlock d = dst.machine().ramBlock(s.idstr()).orElseThrow();
                assertEquals(0, d.missingPages(), s.idstr());
                assertArrayEquals(s.sha256(), d.sha256(), s.idstr());
            }
        }
    }
}
