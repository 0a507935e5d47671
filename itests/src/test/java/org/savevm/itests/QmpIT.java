package org.savevm.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QMP monitor ({@code --qmp}) from outside, as QEMU's users drive QEMU: a live migration between two savevm
 * processes run by QMP alone (events included), and the same requests sent to real QEMU 7.2's monitor and to ours
 * answered alike.
 */
class QmpIT {
    private static final Pattern RAM_HASH = Pattern.compile("ram hash: ([0-9a-f]+)");

    @TempDir
    Path work;

    @Test
    void aLiveMigrationDrivenByQmpOnBothEnds() throws Exception {
        Path srcSock = work.resolve("src.sock");
        Path dstSock = work.resolve("dst.sock");
        try (LauncherProcess dst = new LauncherProcess(work, "--qmp", "unix:" + dstSock + ",server=on,wait=off",
                "--ram", "64M");
                LauncherProcess src = new LauncherProcess(work, "--qmp", "unix:" + srcSock, "--ram", "64M");
                QmpClient d = QmpClient.connect(dstSock, 60_000);
                QmpClient s = QmpClient.connect(srcSock, 60_000)) {
            assertEquals(7, s.greeting.path("QMP").path("version").path("qemu").path("major").asInt(), s.greeting
                    .toString());
            s.ok("qmp_capabilities", null);
            d.ok("qmp_capabilities", null);
            for (QmpClient c : List.of(s, d)) {
                c.ok("migrate-set-capabilities", "{\"capabilities\": [{\"capability\": \"events\", \"state\": true}]}");
            }
            d.ok("human-monitor-command", "{\"command-line\": \"guest rate 0\"}");
            int port = TestHost.freePort();
            d.ok("migrate-incoming", "{\"uri\": \"tcp:127.0.0.1:" + port + "\"}");
            assertEquals("inmigrate", d.ok("query-status", null).path("status").asText());

            s.ok("human-monitor-command", "{\"command-line\": \"guest rate 32M\"}");
            s.ok("cont", null);
            s.awaitEvent("RESUME", null, 10_000);
            assertTrue(s.ok("query-status", null).path("running").asBoolean());
            s.ok("migrate-set-parameters", "{\"downtime-limit\": 100, \"max-bandwidth\": 268435456}");
            assertEquals(268435456L, s.ok("query-migrate-parameters", null).path("max-bandwidth").asLong());
            s.ok("migrate", "{\"uri\": \"tcp:127.0.0.1:" + port + "\"}");

            List<String> srcStates = statuses(s.awaitEvent("MIGRATION", "completed", 120_000));
            List<String> dstStates = statuses(d.awaitEvent("MIGRATION", "completed", 120_000));
            assertEquals(List.of("setup", "active", "completed"), srcStates);
            assertEquals("completed", dstStates.get(dstStates.size() - 1), dstStates.toString());
            JsonNode info = s.ok("query-migrate", null);
            assertEquals("completed", info.path("status").asText(), info.toString());
            assertTrue(info.path("ram").path("transferred").asLong() > 0, info.toString());
            assertEquals("postmigrate", s.ok("query-status", null).path("status").asText());
            assertEquals("completed", d.ok("query-migrate", null).path("status").asText());

            String srcHash = ramHash(s);
            long end = System.currentTimeMillis() + 30_000;
            while (!d.ok("query-status", null).path("running").asBoolean() && System.currentTimeMillis() < end) {
                Thread.sleep(50);
            }
            assertEquals(srcHash, ramHash(d));

            s.ok("quit", null);
            d.ok("quit", null);
            assertEquals(0, src.exitWithin(30), src.err());
            assertEquals(0, dst.exitWithin(30), dst.err());
            assertTrue(!Files.exists(srcSock), "the socket file goes with the monitor");
        }
    }

    /** What QEMU 7.2's monitor says to these requests, ours says too (the greeting's package aside). */
    @Test
    void theSameRequestsGetTheSameRepliesAsFromQemu() throws Exception {
        assumeTrue(TestHost.onPath("qemu-system-x86_64"), "qemu-system-x86_64 (QEMU 7.2) is not installed: skipping the"
                + " comparison with QEMU's monitor");
        Path qemuSock = work.resolve("qemu.sock");
        Path oursSock = work.resolve("ours.sock");
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc-i440fx-7.2", "-nodefaults",
                "-display", "none", "-S", "-m", "64M", "-qmp", "unix:" + qemuSock + ",server=on,wait=off")
                .redirectErrorStream(true).redirectOutput(work.resolve("qemu.log").toFile()).start();
        try (LauncherProcess ours = new LauncherProcess(work, "--qmp", "unix:" + oursSock, "--ram", "64M");
                QmpClient q = QmpClient.connect(qemuSock, 60_000);
                QmpClient o = QmpClient.connect(oursSock, 60_000)) {
            for (String part : List.of("major", "minor")) { // micro is the distribution's stable release
                assertEquals(q.greeting.path("QMP").path("version").path("qemu").path(part),
                        o.greeting.path("QMP").path("version").path("qemu").path(part));
            }
            String[] requests = {
                "{\"execute\": \"query-migrate\", \"id\": 1}",
                "{\"execute\": \"qmp_capabilities\", \"id\": \"neg\"}",
                "{\"execute\": \"qmp_capabilities\"}",
                "{\"execute\": \"no-such-command\", \"id\": [1, {\"a\": null}]}",
                "[1]",
                "{\"arguments\": {}}",
                "{\"execute\": 1}",
                "{\"execute\": \"query-migrate\", \"arguments\": []}",
                "{\"execute\": \"query-migrate\", \"foo\": 1}",
                "{\"execute\": \"query-migrate\", \"arguments\": {\"verbose\": true}}",
                "{\"execute\": \"query-migrate\"}",
                "{\"execute\": \"migrate\", \"arguments\": {}}",
                "{\"execute\": \"migrate\", \"arguments\": {\"uri\": 5}}",
                "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"downtime-limit\": \"x\"}}",
                "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"no-such\": 1}}",
                "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"downtime-limit\": 2000001}}",
                "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"downtime-limit\": 250}}",
                "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": [{\"capability\":"
                        + " \"xbzrle\", \"state\": true}]}}",
                "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {}}",
                "{\"execute\": \"migrate_cancel\"}",
                "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"bogus:x\"}}",
                "{\"execute\": \"migrate-start-postcopy\"}",
                "{\"execute\": \"migrate-recover\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:1\"}}",
                params("{\"max-bandwidth\": \"x\"}"),
                params("{\"compress-level\": 300}"),
                params("{\"compress-wait-thread\": \"x\"}"),
                params("{\"multifd-compression\": 5}"),
                params("{\"multifd-compression\": \"lz4\"}"),
                params("{\"downtime-limit\": -1}"),
                params("{\"downtime-limit\": 1.5}"),
                params("{\"tls-creds\": 5}"),
                params("{\"tls-creds\": null}"),
                params("{\"xbzrle-cache-size\": 1000}"),
                caps("[{\"capability\": \"bogus\", \"state\": true}]"),
                caps("[{\"capability\": \"xbzrle\", \"state\": \"yes\"}]"),
                caps("[{\"capability\": \"xbzrle\"}]"),
                caps("[\"x\"]"),
                caps("[{\"capability\": \"xbzrle\", \"state\": true, \"x\": 1}]"),
                caps("\"notalist\""),
                "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info nope\"}}",
                "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"nope\"}}",
                "{\"execute\": \"cont\"}",
                "{\"execute\": \"query-status\"}",
                "{\"execute\": \"stop\"}",
                "{\"execute\": \"query-status\"}",
            };
            List<String> differences = new ArrayList<>();
            for (String r : requests) {
                JsonNode theirs = q.raw(r);
                JsonNode mine = o.raw(r);
                if (!theirs.equals(mine)) {
                    differences.add(r + "\n  QEMU:   " + theirs + "\n  savevm: " + mine);
                }
            }
            assertEquals(List.of(), differences, String.join("\n", differences));
            // the run-state events in QEMU's order, before the replies of cont and stop
            assertEquals(List.of("RESUME", "STOP"), names(q.drainEvents()));
            assertEquals(List.of("RESUME", "STOP"), names(o.drainEvents()));
            JsonNode qp = q.ok("query-migrate-parameters", null);
            JsonNode op = o.ok("query-migrate-parameters", null);
            assertEquals(qp.get("downtime-limit"), op.get("downtime-limit"));
            assertEquals(qp.get("max-bandwidth"), op.get("max-bandwidth"));
            assertEquals(qp.get("compress-wait-thread"), op.get("compress-wait-thread"));
            q.ok("quit", null);
            o.ok("quit", null);
            assertEquals(0, ours.exitWithin(30), ours.err());
        } finally {
            qemu.destroy();
            qemu.waitFor();
        }
    }

    /** A monitor that cannot listen is one line and exit status 2, before anything runs (QEMU refuses -qmp too). */
    @Test
    void aMonitorThatCannotListenIsOneClearError() throws Exception {
        String[][] cases = {
            {"unix:" + work.resolve("no/such/dir/q.sock"), "savevm: QMP monitor: cannot listen on unix:"
                    + work.resolve("no/such/dir/q.sock") + ": "},
            {"stdio", "savevm: --qmp stdio: expected unix:PATH or tcp:[HOST]:PORT"},
            {"unix:" + Files.writeString(work.resolve("notes.txt"), "mine"), "savevm: QMP monitor: cannot listen on unix:"
                    + work.resolve("notes.txt") + ": " + work.resolve("notes.txt") + " exists and is not a socket"},
            {"unix:/tmp/x.sock,wait=on", "savevm: --qmp unix:/tmp/x.sock,wait=on: option 'wait=on' is not supported"},
        };
        for (String[] c : cases) {
            try (LauncherProcess p = new LauncherProcess(work, "--qmp", c[0])) {
                assertEquals(2, p.exitWithin(60), p.err());
                assertTrue(p.err().strip().startsWith(c[1]), p.err());
                assertEquals(1, p.err().strip().lines().count(), p.err());
            }
        }
        assertEquals("mine", Files.readString(work.resolve("notes.txt")), "a file that is not a socket stays");
    }

    private static String params(String json) {
        return "{\"execute\": \"migrate-set-parameters\", \"arguments\": " + json + "}";
    }

    private static String caps(String json) {
        return "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": " + json + "}}";
    }

    private static List<String> names(List<JsonNode> events) {
        List<String> l = new ArrayList<>();
        events.forEach(e -> l.add(e.path("event").asText()));
        return l;
    }

    private static List<String> statuses(List<JsonNode> events) {
        List<String> l = new ArrayList<>();
        for (JsonNode e : events) {
            if (e.path("event").asText().equals("MIGRATION")) {
                l.add(e.path("data").path("status").asText());
            }
        }
        return l;
    }

    private static String ramHash(QmpClient c) throws Exception {
        String text = c.ok("human-monitor-command", "{\"command-line\": \"machine\"}").asText();
        Matcher m = RAM_HASH.matcher(text);
        assertTrue(m.find(), text);
        return m.group(1);
    }

}
