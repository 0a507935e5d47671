package org.savevm.core.postcopy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.RegisteredSection;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.migration.Incoming;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.Outgoing;
import org.savevm.core.SaveVmService;
import org.savevm.core.postcopy.PostcopyEndToEndTest.End;
import org.savevm.core.testing.BlobEngine;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.core.testing.FakeRegistry;
import org.savevm.core.testing.SkippingRamHandler;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.ram.internal.QemuProcess;
import org.savevm.ram.internal.RamFeatures;
import org.savevm.ram.internal.RamHandler;
import org.savevm.registry.internal.HandlerRegistry;

/**
 * Postcopy against real QEMU 7.2 (qemu-system-x86_64 -machine pc-i440fx-7.2 -incoming defer, postcopy-ram on
 * both ends). Our source is the real core ({@link SaveVmService}), ram handler and orchestrator with a guest that
 * dirties RAM faster than max-bandwidth; it switches to postcopy half way through the first pass. While QEMU is
 * in postcopy-active, a QMP pmemsave on QEMU reads its guest RAM: the pages not yet there fault in QEMU's
 * userfaultfd and come back to us as page requests on the return path; what it reads is already our final RAM.
 * After completion QEMU's guest RAM equals ours.
 * <p>
 * The other way, a paused QEMU 7.2 source (pc.ram mapped from a file of random and zero pages) migrates to our
 * orchestrator, core and ram handler with postcopy-ram, switched by migrate-start-postcopy half way; our
 * destination "vCPU" reads random pages meanwhile, which go to QEMU as page requests. QEMU's device sections
 * (in the PACKAGED blob) load into opaque blob devices sized from the vmdesc of the corpus stream paused-16M,
 * made by the same QEMU with the same command line. Afterwards QEMU's guest RAM (pmemsave on the stopped
 * source) equals what we received.
 * <p>
 * Skipped when QEMU is missing or refuses postcopy-ram (no userfaultfd on this host).
 */
class PostcopyQemuInteropTest {
    private static final int MIB = 32;
    private static final long RAM = (long) MIB << 20;

    @Test
    void qemuDestinationLoadsOurPostcopyMigration(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(QemuProcess.installed(), QemuProcess.QEMU + " is not installed: skipping");
        try (End src = End.create(PostcopyEndToEndTest.dirtying(64L << 20));
                QemuProcess qemu = QemuProcess.destination(dir, MIB + "M")) {
            String caps = qemu.tryCommand("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {"
                    + "\"capabilities\": [{\"capability\": \"postcopy-ram\", \"state\": true}]}}");
            Assumptions.assumeFalse(caps.contains("\"error\""),
                    "QEMU refuses postcopy-ram here (no usable userfaultfd?): skipping: " + caps);
            int port = PostcopyEndToEndTest.freePort();
            qemu.command("{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:" + port
                    + "\"}}");

            PostcopyEndToEndTest.fillRandom(src.machine(), 41);
            src.manager().setCapability("postcopy-ram", true);
            src.manager().setParameter("max-bandwidth", "16M");
            // slow enough that QEMU is still missing pages when it reads its RAM in postcopy
            src.manager().setParameter("max-postcopy-bandwidth", "4M");
            src.manager().guest().start();
            Outgoing o = PostcopyEndToEndTest.migrateSwitchingAfter(src, "tcp:127.0.0.1:" + port, RAM / 2,
                    status -> { });

            RamBlock ram = src.machine().ramBlock("pc.ram").orElseThrow();
            String status = "";
            for (int i = 0; i < 600 && !status.contains("\"postcopy-active\"") && o.status().running(); i++) {
                Thread.sleep(20);
                status = qemu.command("{\"execute\": \"query-migrate\"}");
            }
            assertTrue(status.contains("\"postcopy-active\""), "QEMU went to postcopy-active: " + status + " / "
                    + o.info().toQmp() + " " + qemu.stderr());
            assertEquals(MigrationStatus.POSTCOPY_ACTIVE, o.status(), String.valueOf(o.info().errorDesc()));
            // QEMU's guest RAM read in postcopy: missing pages are requested from us and wait for them
            qemu.assertPcRamEquals(ram, RAM, dir.resolve("during.bin"));

            assertTrue(o.await(120, TimeUnit.SECONDS), "our migration ended");
            MigrationInfo info = o.info();
            assertEquals(MigrationStatus.COMPLETED, info.status(), String.valueOf(info.errorDesc()) + " "
                    + qemu.stderr());
            qemu.awaitCompleted();
            assertTrue(info.postcopyBytes() > 0, "pages went after the switch: " + info.toQmp());
            assertTrue(info.postcopyRequests() > 0, "QEMU requested pages it read in postcopy: " + info.toQmp());
            qemu.assertPcRamEquals(ram, RAM, dir.resolve("after.bin"));
        }
    }

    @Test
    void ourDestinationLoadsQemusPostcopyMigration(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(QemuProcess.installed(), QemuProcess.QEMU + " is not installed: skipping");
        int mib = 16; // the corpus stream whose vmdesc sizes QEMU's device sections was made with -m 16M
        byte[] content = new byte[mib << 20];
        Random rnd = new Random(13);
        byte[] page = new byte[RamBlock.TARGET_PAGE_SIZE];
        for (int p = 0; p < content.length / page.length; p++) {
            if (p % 4 != 3) {
                rnd.nextBytes(page);
                System.arraycopy(page, 0, content, p * page.length, page.length);
            }
        }
        Path ramFile = dir.resolve("ram.bin");
        Files.write(ramFile, content);

        FakeRegistry devices = CorpusStreams.registryFor(CorpusStreams.bytes("paused-16M.mig"),
                new SkippingRamHandler());
        try (SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", (long) mib << 20,
                PostcopyEndToEndTest.dirtying(0), Map.of());
                QemuProcess qemu = QemuProcess.source(dir, mib, ramFile)) {
            String caps = qemu.tryCommand("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {"
                    + "\"capabilities\": [{\"capability\": \"postcopy-ram\", \"state\": true}]}}");
            Assumptions.assumeFalse(caps.contains("\"error\""),
                    "QEMU refuses postcopy-ram here (no usable userfaultfd?): skipping: " + caps);
            HandlerRegistry registry = new HandlerRegistry();
            registry.add(new RamHandler(dst), "org.savevm.ram");
            for (RegisteredSection r : devices.sections()) {
                if (!(r.handler() instanceof SkippingRamHandler)) {
                    registry.add(r.handler(), "qemu.devices");
                }
            }
            MigrationManager manager = new MigrationManager(new SaveVmService(registry, new BlobEngine(), Map.of()),
                    dst);
            manager.addFeatures(new RamFeatures());
            manager.setCapability("postcopy-ram", true);
            Incoming in = manager.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);

            AtomicLong reads = new AtomicLong();
            Thread vcpu = new Thread(() -> {
                Random r = new Random(19);
                RamBlock d = dst.ramBlock("pc.ram").orElseThrow();
                byte[] got = new byte[64];
                while (in.status() != MigrationStatus.POSTCOPY_ACTIVE && in.status().running()) {
                    Thread.onSpinWait();
                }
                while (in.status() == MigrationStatus.POSTCOPY_ACTIVE) {
                    d.read(r.nextLong(d.pages()) * RamBlock.TARGET_PAGE_SIZE, got, 0, got.length);
                    reads.incrementAndGet();
                }
            }, "dst-vcpu");
            vcpu.start();

            // slow precopy so that the switch comes half way; postcopy slow too, so that our vCPU faults
            qemu.command("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\": 8388608, "
                    + "\"max-postcopy-bandwidth\": 4194304}}");
            qemu.command("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"" + in.address() + "\"}}");
            String status = "";
            for (int i = 0; i < 600; i++) {
                status = qemu.command("{\"execute\": \"query-migrate\"}");
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"transferred\": (\\d+)").matcher(status);
                boolean active = status.contains("\"active\"");
                if (active && m.find() && Long.parseLong(m.group(1)) >= content.length / 2
                        || !active && !status.contains("\"setup\"")) {
                    break;
                }
                Thread.sleep(20);
            }
            assertTrue(status.contains("\"active\""), "QEMU still in precopy half way: " + status + " "
                    + qemu.stderr());
            qemu.command("{\"execute\": \"migrate-start-postcopy\"}");
            qemu.awaitCompleted();
            assertTrue(in.await(60, TimeUnit.SECONDS), "our load ended");
            vcpu.join(10_000);
            assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
            String done = qemu.command("{\"execute\": \"query-migrate\"}");
            assertTrue(done.matches(".*\"postcopy-requests\": [1-9].*"), "our vCPU's faults reached QEMU: " + done);
            assertTrue(reads.get() > 0);

            RamBlock ram = dst.ramBlock("pc.ram").orElseThrow();
            assertEquals(0, ram.missingPages());
            Path dump = dir.resolve("qemu-ram.bin");
            long low = 1 << 20;
            qemu.pmemsave(low, content.length - low, dump);
            byte[] theirs = Files.readAllBytes(dump);
            byte[] ours = new byte[content.length - (int) low];
            ram.read(low, ours, 0, ours.length);
            assertTrue(Arrays.equals(Arrays.copyOfRange(content, (int) low, content.length), theirs),
                    "QEMU's RAM is still what it was mapped from");
            assertTrue(Arrays.equals(theirs, ours), "our pc.ram equals QEMU's guest RAM");
            for (String block : new String[] {"pc.bios", "pc.rom"}) {
                assertTrue(dst.ramBlock(block).orElseThrow().missingPages() == 0, block);
            }
        }
    }
}
