package org.savevm.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.savevm.api.SavevmCommand;
import org.savevm.api.settings.MigrationFeatures;

/**
 * The capability table in a running framework: what the installed bundles declare (the ram bundle: xbzrle) can be
 * switched on, {@code block} only while a bundle declaring it is installed: the block bundle, and with it stopped a
 * service the test registers as a block handler bundle would.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MigrationFeaturesIT {
    private static final long WAIT_MS = 5_000;
    private static final String NO_BLOCK = "QEMU compiled without old-style (blk/-b, inc/-i) block migration";

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() throws Exception {
        return options(
                composite(Provision.feature("core")),
                junitBundles(),
                systemProperty("savevm.provision").value(Provision.dir().getPath()),
                systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"),
                cleanCaches());
    }

    /** Exit status, stdout and stderr of one savevm command. */
    private record Result(int rc, String out, String err) {
    }

    private Result run(String name, String... args) throws Exception {
        SavevmCommand command = null;
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (command == null && System.currentTimeMillis() < deadline) {
            for (ServiceReference<SavevmCommand> ref : context.getServiceReferences(SavevmCommand.class, null)) {
                SavevmCommand c = context.getService(ref);
                if (c != null && c.name().equals(name)) {
                    command = c;
                }
            }
            if (command == null) {
                Thread.sleep(50);
            }
        }
        assertTrue("no command " + name, command != null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = command.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private String capabilities() throws Exception {
        Result r = run("info-migrate", "--capabilities");
        assertEquals(r.err(), 0, r.rc());
        return r.out();
    }

    @Test
    public void blockIsAvailableWhileABundleDeclaresIt() throws Exception {
        // The block bundle (org.savevm.block, in the core feature) declares block, zero-blocks, block-incremental.
        Bundle block = null;
        for (Bundle b : context.getBundles()) {
            if ("org.savevm.block".equals(b.getSymbolicName())) {
                block = b;
            }
        }
        assertTrue("the block bundle is installed", block != null);
        block.stop();
        try {
            awaitCapability("block", false);
            Result refused = run("migrate-set-capability", "block", "on");
            assertEquals(2, refused.rc());
            assertEquals(NO_BLOCK, refused.err().trim());
            assertTrue(capabilities(), capabilities().contains("capabilities block: off\n"));

            // The ram bundle's MigrationFeatures service is there: its capability is accepted.
            assertEquals(0, run("migrate-set-capability", "xbzrle", "on").rc());
            assertTrue(capabilities().contains("capabilities xbzrle: on\n"));
            assertEquals(0, run("migrate-set-capability", "xbzrle", "off").rc());

            ServiceRegistration<MigrationFeatures> blockHandler = context.registerService(MigrationFeatures.class,
                    MigrationFeatures.of(Set.of("block"), Set.of("block-incremental")), null);
            try {
                Result on = run("migrate-set-capability", "block", "on");
                assertEquals(on.err(), 0, on.rc());
                assertTrue(capabilities(), capabilities().contains("capabilities block: on\n"));
                assertEquals(0, run("migrate-set-parameter", "block-incremental", "on").rc());
            } finally {
                blockHandler.unregister();
            }
            // The declaring service went: block is off and refused again.
            assertTrue(capabilities(), capabilities().contains("capabilities block: off\n"));
            assertEquals(NO_BLOCK, run("migrate-set-capability", "block", "on").err().trim());
        } finally {
            block.start();
        }
        // The real block bundle is back: its capabilities can be switched on.
        awaitCapability("block", true);
        Result on = run("migrate-set-capability", "block", "on");
        assertEquals(on.err(), 0, on.rc());
        assertEquals(0, run("migrate-set-capability", "zero-blocks", "on").rc());
        assertEquals(0, run("migrate-set-capability", "block", "off").rc());
        assertEquals(0, run("migrate-set-capability", "zero-blocks", "off").rc());
    }

    /** Waits until switching {@code name} on is accepted ({@code available}) or refused. */
    private void awaitCapability(String name, boolean available) throws Exception {
        long end = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            Result r = run("migrate-set-capability", name, "on");
            if ((r.rc() == 0) == available || System.currentTimeMillis() > end) {
                if (r.rc() == 0) {
                    run("migrate-set-capability", name, "off");
                }
                return;
            }
            if (r.rc() == 0) {
                run("migrate-set-capability", name, "off");
            }
            Thread.sleep(50);
        }
    }
}
