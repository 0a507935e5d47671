package org.savevm.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two savevm processes (interactive shells) and the things that go wrong between them: the destination killed in
 * the middle of a migration leaves the source running with its RAM as it was, and a later migration to a new
 * destination arrives with the same RAM hash; the source killed in the middle leaves the destination failed with
 * its guest stopped; and a migration between two network namespaces made by the test (a veth pair with tc netem:
 * 10 ms delay, 1 % loss, a 100 Mbit/s rate cap each way) arrives with equal hashes. The namespace test needs root
 * and the ip and tc commands, and says so when it skips.
 */
class BadNetworkIT {
    @TempDir
    Path work;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Random data written into a few MiB of the source's RAM, then the guest kept running but idle. */
    private static String fill(SavevmShell src) throws Exception {
        src.run("guest rate 8M");
        src.run("guest resume");
        Thread.sleep(500);
        src.run("guest rate 0");
        Thread.sleep(100);
        assertTrue(src.run("guest status").contains("guest running"));
        return src.ramHash();
    }

    @Test
    void killingTheDestinationLeavesTheSourceRunningAndALaterMigrationWorks() throws Exception {
        try (SavevmShell src = new SavevmShell(work, List.of())) {
            String hash = fill(src);
            int port = freePort();
            try (SavevmShell dst = new SavevmShell(work, List.of())) {
                dst.run("incoming -d -S tcp:127.0.0.1:" + port);
                src.run("migrate-set-parameter max-bandwidth 1M");
                src.run("migrate -d tcp:127.0.0.1:" + port);
                dst.awaitStatus(60, "active");
                Thread.sleep(300);
                dst.kill();
            }
            String info = src.awaitStatus(60, "failed");
            assertTrue(info.contains("error-desc"), info);
            assertTrue(src.run("guest status").contains("guest running"), "the source runs on");
            assertEquals(hash, src.ramHash(), "the source's RAM is as it was");

            int port2 = freePort();
            try (SavevmShell dst2 = new SavevmShell(work, List.of())) {
                dst2.run("incoming -d -S tcp:127.0.0.1:" + port2);
                src.run("migrate-set-parameter max-bandwidth 1G");
                String out = src.run("migrate tcp:127.0.0.1:" + port2, 120);
                assertTrue(out.contains("status: completed"), out);
                dst2.awaitStatus(60, "completed");
                assertEquals(hash, dst2.ramHash(), "the later migration arrived whole");
            }
        }
    }

    @Test
    void killingTheSourceLeavesTheDestinationFailedAndStopped() throws Exception {
        int port = freePort();
        try (SavevmShell dst = new SavevmShell(work, List.of())) {
            try (SavevmShell src = new SavevmShell(work, List.of())) {
                fill(src);
                dst.run("incoming -d tcp:127.0.0.1:" + port);
                src.run("migrate-set-parameter max-bandwidth 1M");
                src.run("migrate -d tcp:127.0.0.1:" + port);
                dst.awaitStatus(60, "active");
                Thread.sleep(300);
                src.kill();
            }
            String info = dst.awaitStatus(60, "failed");
            assertTrue(info.contains("error-desc"), info);
            assertTrue(dst.run("guest status").contains("guest paused"), "the destination does not run a half-loaded guest");
        }
    }

    private static boolean onPath(String cmd) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, cmd))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", cmd)) || Files.isExecutable(Path.of("/sbin", cmd));
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
    }

    private static void quietly(String... cmd) {
        try {
            new ProcessBuilder(cmd).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // cleanup of what may not exist
        }
    }

    @Test
    void migratesBetweenTwoNetworkNamespacesOverALossySlowLink() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        Assumptions.assumeTrue(root && onPath("ip") && onPath("tc"),
                "needs root and the ip and tc commands to make network namespaces: skipping the netns migration");
        // names unique to this run: other test runs may share the machine
        String id = Long.toString(ProcessHandle.current().pid() % 100000);
        String a = "svA" + id;
        String b = "svB" + id;
        String net = "10.199." + (ProcessHandle.current().pid() % 200 + 1);
        List<String[]> setup = new ArrayList<>();
        setup.add(new String[] {"ip", "netns", "add", a});
        setup.add(new String[] {"ip", "netns", "add", b});
        setup.add(new String[] {"ip", "link", "add", a + "v", "netns", a, "type", "veth", "peer", "name", b + "v", "netns", b});
        setup.add(new String[] {"ip", "-n", a, "addr", "add", net + ".1/24", "dev", a + "v"});
        setup.add(new String[] {"ip", "-n", b, "addr", "add", net + ".2/24", "dev", b + "v"});
        for (String ns : new String[] {a, b}) {
            setup.add(new String[] {"ip", "-n", ns, "link", "set", "lo", "up"});
            setup.add(new String[] {"ip", "-n", ns, "link", "set", ns + "v", "up"});
            setup.add(new String[] {"ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", ns + "v", "root", "netem",
                "delay", "10ms", "loss", "1%", "rate", "100mbit"});
        }
        try {
            for (String[] c : setup) {
                sh(c);
            }
            try (SavevmShell src = new SavevmShell(work, List.of("ip", "netns", "exec", a));
                    SavevmShell dst = new SavevmShell(work, List.of("ip", "netns", "exec", b))) {
                String hash = fill(src);
                dst.run("incoming -d -S tcp:" + net + ".2:4444");
                src.run("migrate-set-parameter max-bandwidth 1G");
                String out = src.run("migrate tcp:" + net + ".2:4444", 300);
                assertTrue(out.contains("status: completed"), out + src.output());
                dst.awaitStatus(60, "completed");
                assertEquals(hash, dst.ramHash(), "the RAM crossed the lossy link whole");
                // the destination's address is not reachable from the host's own namespace: the test did not
                // migrate over loopback by mistake
                assertTrue(!out.contains("127.0.0.1"));
            }
        } finally {
            quietly("ip", "netns", "del", a);
            quietly("ip", "netns", "del", b);
        }
    }
}
