package org.savevm.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The executable jar as a user runs it: one-shot commands, and hot install into a running shell. */
class LauncherIT {
    private static final Pattern EXAMPLE_ROW = Pattern.compile("(?m)^\\d+\\s+example\\s+0\\s");

    @TempDir
    Path work;

    @Test
    void oneShotHandlersPrintsTheCoreHandlersAndExitsZero() throws Exception {
        long t0 = System.nanoTime();
        try (LauncherProcess p = new LauncherProcess(work, "handlers")) {
            int rc = p.exitWithin(60);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0, rc, p.err());
            // every component activates cleanly: Felix SCR reports a failed activation or a constructor it
            // could not use as "ERROR : bundle ..." on stderr, and the command may still succeed
            assertTrue(!p.err().contains("ERROR"), "the container logged errors:\n" + p.err());
            String out = p.out();
            assertTrue(out.startsWith("SECTION"), out);
            for (String idstr : new String[] {"timer", "ram", "serial", "mc146818rtc"}) {
                assertTrue(Pattern.compile("(?m)^\\d+\\s+" + idstr + "\\s").matcher(out).find(), idstr + " missing:\n" + out);
            }
            System.out.println("savevm.jar handlers: " + ms + " ms wall");
        }
        assertTrue(Files.isDirectory(work.resolve("deploy")), "default deploy dir is ./deploy");
    }

    @Test
    void oneShotCommandSeesBundlesAlreadyInTheDeployDir() throws Exception {
        Path deploy = Files.createDirectories(work.resolve("deploy"));
        Files.copy(Provision.exampleHandlerJar().toPath(), deploy.resolve("example.handler.jar"));
        try (LauncherProcess p = new LauncherProcess(work, "handlers")) {
            assertEquals(0, p.exitWithin(60), p.err());
            assertTrue(EXAMPLE_ROW.matcher(p.out()).find(), p.out());
        }
    }

    @Test
    void deployedExampleSectionsGoThroughSaveStateAndLoadState() throws Exception {
        Path deploy = Files.createDirectories(work.resolve("deploy"));
        Files.copy(Provision.exampleHandlerJar().toPath(), deploy.resolve("example.handler.jar"));
        Path state = work.resolve("state.mig");
        try (LauncherProcess p = new LauncherProcess(work, "save-state", state.toString())) {
            assertEquals(0, p.exitWithin(60), p.err());
        }
        byte[] bytes = Files.readAllBytes(state);
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("\u0007example") && text.contains("\u000eexample-device"), "example sections missing from the stream");
        try (LauncherProcess p = new LauncherProcess(work, "load-state", state.toString())) {
            assertEquals(0, p.exitWithin(60), p.err());
        }
        Files.delete(deploy.resolve("example.handler.jar"));
        try (LauncherProcess p = new LauncherProcess(work, "load-state", state.toString())) {
            assertEquals(1, p.exitWithin(60), "loading without the example handler must fail: " + p.out());
            assertTrue(p.err().contains("example"), p.err());
        }
    }

    /** A bad machine option is one line naming it and exit status 2, before any bundle starts. */
    @Test
    void badMachineOptionsAreOneClearErrorBeforeAnythingStarts() throws Exception {
        Path disk = Files.write(work.resolve("d.raw"), new byte[1 << 20]);
        String[][] cases = {
            {"--disk", disk + ",cache=bogus", "--disk " + disk + ",cache=bogus: unknown cache mode 'bogus'"},
            {"--disk", disk + ",id=9", "--disk: drive id '9' must start with a letter"},
            {"--disk", work.resolve("none.raw").toString(), "--disk: " + work.resolve("none.raw") + ": no such image file"},
            {"--ram", "lots", "--ram lots: bad size 'lots'"},
        };
        for (String[] c : cases) {
            try (LauncherProcess p = new LauncherProcess(work, c[0], c[1], "info-block")) {
                assertEquals(2, p.exitWithin(60), p.err());
                assertTrue(p.err().strip().startsWith("savevm: " + c[2]), p.err());
                assertEquals(1, p.err().strip().lines().count(), p.err());
                assertTrue(!p.err().contains("Exception"), p.err());
            }
        }
        try (LauncherProcess p = new LauncherProcess(work, "--disk", disk + ",id=data,cache=writethrough", "info-block")) {
            assertEquals(0, p.exitWithin(60), p.err());
            assertTrue(p.out().startsWith("data: " + disk + " (raw)\n    Cache mode:       writethrough\n"), p.out());
        }
    }

    /** What only opening the image tells is one line too: the launcher opens each drive before the machine does. */
    @Test
    void imagesTheMachineCannotOpenAreOneClearErrorBeforeItStarts() throws Exception {
        byte[] header = new byte[1 << 16];
        java.nio.ByteBuffer.wrap(header).putInt(0x514649fb).putInt(7); // qcow2 magic, a version no QEMU knows
        Path corrupt = Files.write(work.resolve("bad.qcow2"), header);
        Path disk = Files.write(work.resolve("ok.raw"), new byte[1 << 20]);
        String[][] cases = {
            {corrupt + ",format=qcow2", "--disk " + corrupt + " (drive 'disk0'): " + corrupt
                    + ": unsupported qcow2 version 7"},
            {disk + ",format=qcow2,id=sys", "--disk " + disk + " (drive 'sys'): " + disk + ": not a qcow2 image"},
        };
        for (String[] c : cases) {
            try (LauncherProcess p = new LauncherProcess(work, "--disk", c[0], "info-block")) {
                assertEquals(2, p.exitWithin(60), p.err());
                assertTrue(p.err().strip().startsWith("savevm: " + c[1]), p.err());
                assertEquals(1, p.err().strip().lines().count(), p.err());
                assertTrue(!p.err().contains("Exception"), p.err());
            }
        }
        // a second savevm on an image the first one writes: refused as QEMU refuses (its lock bytes), as a writer
        // and as a read-only drive; the first one keeps it
        try (LauncherProcess first = new LauncherProcess(work, "--disk", disk.toString())) {
            first.send("info-block");
            waitFor(first, 60_000, () -> first.out().contains("disk0: " + disk + " (raw)"));
            try (LauncherProcess second = new LauncherProcess(work, "--disk", disk.toString(), "info-block")) {
                assertEquals(2, second.exitWithin(60), second.err());
                assertEquals("savevm: --disk " + disk + " (drive 'disk0'): " + disk
                        + ": failed to get \"write\" lock: is another process using the image?", second.err().strip());
            }
            try (LauncherProcess reader = new LauncherProcess(work, "--disk", disk + ",readonly=on", "info-block")) {
                assertEquals(2, reader.exitWithin(60), reader.err());
                assertTrue(reader.err().contains(": failed to get shared \"write\" lock"), reader.err());
            }
            first.send("info-block");
            waitFor(first, 30_000, () -> first.out().split("disk0: ", -1).length == 3);
        }
        try (LauncherProcess reader = new LauncherProcess(work, "--disk", disk + ",readonly=on", "info-block")) {
            assertEquals(0, reader.exitWithin(60), reader.err());
            assertTrue(reader.out().startsWith("disk0: " + disk + " (raw, read-only)"), reader.out());
        }
    }

    @Test
    void unknownCommandListsTheCommandsAndFails() throws Exception {
        try (LauncherProcess p = new LauncherProcess(work, "no-such-command")) {
            assertEquals(2, p.exitWithin(60));
            assertTrue(p.err().contains("unknown command 'no-such-command'"), p.err());
            assertTrue(p.err().contains("handlers") && p.err().contains("help"), p.err());
        }
    }

    @Test
    void commandExitStatusIsTheProcessExitStatus() throws Exception {
        try (LauncherProcess p = new LauncherProcess(work, "help", "no-such-command")) {
            assertEquals(2, p.exitWithin(60));
            assertTrue(p.err().contains("unknown command 'no-such-command'"), p.err());
        }
        try (LauncherProcess p = new LauncherProcess(work, "help", "handlers")) {
            assertEquals(0, p.exitWithin(60), p.err());
            assertTrue(p.out().contains("usage: "), p.out());
        }
    }

    @Test
    void handlerJarDroppedIntoDeployDirAppearsWithinFiveSeconds() throws Exception {
        Path deploy = work.resolve("drop");
        try (LauncherProcess p = new LauncherProcess(work, "--deploy", deploy.toString())) {
            p.send("savevm:handlers");
            waitFor(p, 60_000, () -> p.out().contains(" sections"));
            // plain help is savevm's (its scope comes first), not Gogo's felix:help
            p.send("help");
            waitFor(p, 10_000, () -> p.out().contains("list the savevm commands, or show one command's usage"));
            assertTrue(!p.out().contains("cm:createfactoryconfiguration"), p.out());
            assertTrue(!EXAMPLE_ROW.matcher(p.out()).find(), p.out());

            long t0 = System.nanoTime();
            Path tmp = work.resolve("example.tmp");
            Files.copy(Provision.exampleHandlerJar().toPath(), tmp);
            Files.move(tmp, deploy.resolve("example.handler.jar"), StandardCopyOption.ATOMIC_MOVE);
            long deadline = System.currentTimeMillis() + 5_000;
            boolean seen = false;
            while (!seen && System.currentTimeMillis() < deadline) {
                p.send("handlers");
                Thread.sleep(100);
                seen = EXAMPLE_ROW.matcher(p.out()).find();
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(seen, "example handler not listed 5 s after the copy:\n" + p.out() + "\n" + p.err());
            System.out.println("hot install: example listed " + ms + " ms after the copy into deploy/");

            p.closeInput(); // end of input: Gogo stops the framework and the launcher exits
            assertEquals(0, p.exitWithin(30), p.err());
        }
    }

    private static void waitFor(LauncherProcess p, long ms, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long end = System.currentTimeMillis() + ms;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("timed out\nstdout:\n" + p.out() + "\nstderr:\n" + p.err());
            }
            Thread.sleep(50);
        }
    }
}
