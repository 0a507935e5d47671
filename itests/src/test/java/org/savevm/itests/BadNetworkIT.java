package org.savevm.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
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
 * its guest stopped; and a migration between two network namespaces made by the test (veth pairs with tc netem:
 * 10 ms delay, 1 % loss, a 100 Mbit/s rate cap each way, or what the kernel offers) arrives with equal hashes. The
 * namespace test needs root and the ip and tc commands, and says so when it skips.
 */
class BadNetworkIT {
    @TempDir
    Path work;

    /** Random data written into a few MiB of the source's RAM, then the guest kept running but idle. */
    private static String fill(SavevmShell src) throws Exception {
        src.run("guest rate 8M");
        src.run("guest resume");
        Thread.sleep(500);
        src.run("guest rate 0");
        // the workload may still spend a write it had accumulated: wait until its byte count stands still
        String before = src.run("guest status");
        for (int i = 0; i < 50; i++) {
            Thread.sleep(200);
            String now = src.run("guest status");
            if (now.equals(before)) {
                break;
            }
            before = now;
        }
        assertTrue(before.contains("guest running"), before);
        return src.ramHash();
    }

    @Test
    void killingTheDestinationLeavesTheSourceRunningAndALaterMigrationWorks() throws Exception {
        try (SavevmShell src = new SavevmShell(work, List.of())) {
            String hash = fill(src);
            int port = TestHost.freePort();
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

            int port2 = TestHost.freePort();
            try (SavevmShell dst2 = new SavevmShell(work, List.of())) {
                dst2.run("incoming -d -S tcp:127.0.0.1:" + port2);
                src.run("migrate-set-parameter max-bandwidth 1G");
                String out = src.run("migrate tcp:127.0.0.1:" + port2, 120);
                assertTrue(out.contains("status: completed"), out);
                dst2.awaitStatus(60, "completed");
                String dstHash = dst2.ramHash();
                assertEquals(src.ramHash(), dstHash, "the later migration arrived whole");
                assertEquals(hash, dstHash, "with the RAM the source kept");
            }
        }
    }

    @Test
    void killingTheSourceLeavesTheDestinationFailedAndStopped() throws Exception {
        int port = TestHost.freePort();
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
        return TestHost.onPath(cmd) || Files.isExecutable(Path.of("/usr/sbin", cmd))
                || Files.isExecutable(Path.of("/sbin", cmd));
    }

    private static String sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    private static void quietly(String... cmd) {
        try {
            new ProcessBuilder(cmd).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // cleanup of what may not exist
        }
    }

    /** Whether this kernel has the netem queueing discipline (containers often lack sch_netem). */
    private static boolean netemAvailable() {
        return worksInAFreshNamespace("svnetem", ns -> new String[] {"ip", "netns", "exec", ns, "tc", "qdisc", "add",
            "dev", "lo", "root", "netem", "delay", "1ms"});
    }

    /**
     * Whether nft can drop packets at random in a namespace (nf_tables with numgen, and the nft command): the
     * packet loss of the link when the kernel has no netem.
     */
    private static boolean nftLossAvailable() {
        return onPath("nft") && worksInAFreshNamespace("svnft", ns -> nftLoss(ns).get(0));
    }

    /** Runs the command {@code probe} makes for a namespace created for it (and deleted after): whether it succeeded. */
    private static boolean worksInAFreshNamespace(String prefix, java.util.function.Function<String, String[]> probe) {
        String ns = prefix + ProcessHandle.current().pid() % 100000;
        try {
            sh("ip", "netns", "add", ns);
            sh(probe.apply(ns));
            return true;
        } catch (Exception | AssertionError e) {
            return false;
        } finally {
            quietly("ip", "netns", "del", ns);
        }
    }

    /** One packet in a hundred arriving in namespace {@code ns} dropped by the kernel (real loss, TCP retransmits). */
    private static List<String[]> nftLoss(String ns) {
        return List.<String[]>of(new String[] {"ip", "netns", "exec", ns, "nft",
            "add table inet svloss; add chain inet svloss in { type filter hook input priority 0; };"
                + " add rule inet svloss in numgen random mod 100 0 counter drop"});
    }

    /**
     * Source in namespace A, destination in namespace B, each joined to the test's namespace by a veth pair; the
     * test's relay forwards between them. Each namespace's link gets netem (10 ms delay, 1 % loss, 100 Mbit/s)
     * where the kernel has it. Where it does not, tbf caps the rate at 100 Mbit/s, nft drops 1 % of the packets
     * arriving in each namespace (real loss that TCP must retransmit) and the relay adds the 10 ms each way; without
     * nft either, the relay also stalls one chunk in a hundred for the 200 ms that a lost segment costs TCP.
     */
    @Test
    void migratesBetweenTwoNetworkNamespacesOverALossySlowLink() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        Assumptions.assumeTrue(root && onPath("ip") && onPath("tc"),
                "needs root and the ip and tc commands to make network namespaces: skipping the netns migration");
        boolean netem = netemAvailable();
        boolean nftLoss = !netem && nftLossAvailable();
        // names unique to this run: other test runs may share the machine
        long pid = ProcessHandle.current().pid();
        String id = Long.toString(pid % 100000);
        String a = "svA" + id;
        String b = "svB" + id;
        String netA = "10.198." + (pid % 200 + 1);
        String netB = "10.199." + (pid % 200 + 1);
        List<String[]> setup = new ArrayList<>();
        setup.add(new String[] {"ip", "netns", "add", a});
        setup.add(new String[] {"ip", "netns", "add", b});
        for (String[] x : new String[][] {{a, netA}, {b, netB}}) {
            String ns = x[0];
            String net = x[1];
            setup.add(new String[] {"ip", "link", "add", ns + "h", "type", "veth", "peer", "name", ns + "v", "netns", ns});
            setup.add(new String[] {"ip", "addr", "add", net + ".1/24", "dev", ns + "h"});
            setup.add(new String[] {"ip", "link", "set", ns + "h", "up"});
            setup.add(new String[] {"ip", "-n", ns, "addr", "add", net + ".2/24", "dev", ns + "v"});
            setup.add(new String[] {"ip", "-n", ns, "link", "set", "lo", "up"});
            setup.add(new String[] {"ip", "-n", ns, "link", "set", ns + "v", "up"});
            setup.add(new String[] {"ip", "-n", ns, "route", "add", "default", "via", net + ".1"});
            setup.add(netem
                    ? new String[] {"ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", ns + "v", "root", "netem",
                        "delay", "10ms", "loss", "1%", "rate", "100mbit"}
                    : new String[] {"ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", ns + "v", "root", "tbf",
                        "rate", "100mbit", "burst", "64kb", "latency", "400ms"});
            if (nftLoss) {
                setup.addAll(nftLoss(ns));
            }
        }
        try {
            for (String[] c : setup) {
                sh(c);
            }
            int relayPort = 4000 + (int) (pid % 1000);
            try (DelayingRelay relay = new DelayingRelay(InetAddress.getByName(netA + ".1"), relayPort,
                    new java.net.InetSocketAddress(netB + ".2", 4444), netem ? 0 : 10, netem || nftLoss ? 0 : 0.01);
                    SavevmShell src = new SavevmShell(work, List.of("ip", "netns", "exec", a));
                    SavevmShell dst = new SavevmShell(work, List.of("ip", "netns", "exec", b))) {
                System.out.println("netns migration: " + (netem ? "netem delay 10ms loss 1% rate 100mbit"
                        : nftLoss ? "no netem in this kernel: tbf rate 100mbit, nft drops 1 % of packets, relay delay 10 ms each way"
                        : "no netem in this kernel: tbf rate 100mbit, relay delay 10 ms each way, 1 % of chunks stalled 200 ms"));
                String hash = fill(src);
                dst.run("incoming -d -S tcp:" + netB + ".2:4444");
                src.run("migrate-set-parameter max-bandwidth 1G");
                String out = src.run("migrate tcp:" + netA + ".1:" + relayPort, 300);
                assertTrue(out.contains("status: completed"), out + src.output());
                dst.awaitStatus(60, "completed");
                String dstHash = dst.ramHash();
                assertEquals(src.ramHash(), dstHash, "the RAM crossed the impaired link whole");
                assertEquals(hash, dstHash, "and it is the RAM the idle guest had before");
                if (nftLoss) {
                    // the loss was real: the kernel dropped packets on the way into both namespaces
                    for (String ns : new String[] {a, b}) {
                        String rules = sh("ip", "netns", "exec", ns, "nft", "list", "table", "inet", "svloss");
                        java.util.regex.Matcher m = java.util.regex.Pattern.compile("packets (\\d+)").matcher(rules);
                        assertTrue(m.find() && Long.parseLong(m.group(1)) > 0, "no packet dropped in " + ns + ":\n" + rules);
                        System.out.println("netns migration: " + ns + " dropped " + m.group(1) + " packets");
                    }
                }
            }
        } finally {
            quietly("ip", "link", "del", a + "h");
            quietly("ip", "link", "del", b + "h");
            quietly("ip", "netns", "del", a);
            quietly("ip", "netns", "del", b);
        }
    }
}
