package org.savevm.qmp.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterAll;
import org.savevm.api.qmp.QmpArgs;
import org.savevm.api.qmp.QmpEvents;
import org.savevm.api.qmp.QmpHandler;
import org.savevm.testing.fuzz.FuzzOracle;

/**
 * A QMP client's bytes, untrusted, through one session: whatever comes, the session answers every request it could
 * frame with one JSON object ({@code return} or {@code error}) on a line of its own, ends on malformed or oversized
 * input, and never fails otherwise. Handlers read typed arguments the way the migration commands do. Seeds in
 * {@code QmpSessionFuzzTestInputs/session}: a negotiation and a few commands.
 */
class QmpSessionFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("QmpSessionFuzzTest.session");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, QmpHandler> HANDLERS = Map.of(
            "echo", (a, e) -> a,
            "typed", (a, e) -> {
                QmpArgs args = QmpArgs.of(a, "s", "b", "l", "o");
                args.string("s", "");
                args.bool("b", false);
                if (a.containsKey("l")) {
                    args.list("l");
                }
                if (a.containsKey("o")) {
                    QmpArgs.at("o", QmpArgs.object(a.get("o"), "o"), "x").string("x", "");
                }
                e.emit("TYPED", Map.of("n", a.size()));
                return Map.of();
            });

    @AfterAll
    static void report() {
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "6s")
    void session(byte[] input) {
        ORACLE.check(input.length, () -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            QmpEvents events = (name, data) -> { };
            new QmpSession(new ByteArrayInputStream(input), out, HANDLERS::get, events,
                    Map.of("QMP", Map.of("capabilities", List.of()))).run();
            String[] lines = out.toString(StandardCharsets.UTF_8).split("\r\n");
            for (int i = 1; i < lines.length; i++) {
                JsonNode reply;
                try {
                    reply = JSON.readTree(lines[i]);
                } catch (IOException e) {
                    throw new AssertionError("reply " + i + " is not JSON: " + lines[i], e);
                }
                if (!reply.isObject() || !(reply.has("return") ^ reply.has("error"))) {
                    throw new AssertionError("reply " + i + " is neither a return nor an error: " + lines[i]);
                }
            }
        });
    }
}
