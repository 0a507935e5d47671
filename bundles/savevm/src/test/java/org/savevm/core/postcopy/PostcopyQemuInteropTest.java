package org.savevm.core.postcopy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.Outgoing;
import org.savevm.core.SaveVmService;
import org.savevm.core.postcopy.PostcopyEndToEndTest.End;
import org.savevm.ram.internal.QemuProcess;

/**
 * Postcopy against real QEMU 7.2 (qemu-system-x86_64 -machine pc-i440fx-7.2 -incoming defer, postcopy-ram on
 * both ends). Our source is the real core ({@link SaveVmService}), ram handler and orchestrator with a guest that
 * dirties RAM faster than max-bandwidth; it switches to postcopy half way through the first pass. While QEMU is
 * in postcopy-active, a QMP pmemsave on QEMU reads its guest RAM: the pages not yet there fault in QEMU's
 * userfaultfd and come back to us as page requests on the return path; what it reads is already our final RAM.
 * After completion QEMU's guest RAM equals ours. Skipped when QEMU is missing or refuses postcopy-ram (no
 * userfaultfd on this host).
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
            AtomicReference<Outgoing> out = new AtomicReference<>();
            Outgoing o = src.manager().migrate("tcp:127.0.0.1:" + port, new MigrationListener() {
                @Override
                public void progress(MigrationInfo info) {
                    Outgoing self = out.get();
                    if (self != null && info.ram() != null && info.ram().transferred() >= RAM / 2) {
                        self.startPostcopy();
                    }
                }
            });
            out.set(o);

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
}
