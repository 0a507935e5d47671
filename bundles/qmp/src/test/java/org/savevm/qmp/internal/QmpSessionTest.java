package org.savevm.qmp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.qmp.QmpArgs;
import org.savevm.api.qmp.QmpError;
import org.savevm.api.qmp.QmpEvents;
import org.savevm.api.qmp.QmpHandler;

/** The protocol as QEMU 7.2's monitor speaks it, request by request, with QEMU's texts. */
class QmpSessionTest {
    private static final Map<String, Object> GREETING = Map.of("QMP", Map.of("capabilities", List.of()));

    private final Map<String, QmpHandler> handlers = Map.of(
            "echo", (a, e) -> QmpArgs.of(a, "text").string("text"),
            "boom", (a, e) -> {
                throw new QmpError("DeviceNotFound", "Device 'x' not found");
            },
            "bug", (a, e) -> {
                throw new IllegalStateException("oops");
            });

    private List<String> converse(String input) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new QmpSession(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), out, handlers::get,
                QmpEvents.NONE, GREETING).run();
        List<String> lines = new ArrayList<>(List.of(out.toString(StandardCharsets.UTF_8).split("\r\n")));
        assertEquals("{\"QMP\":{\"capabilities\":[]}}", lines.remove(0));
        return lines;
    }

    @Test
    void negotiationFirstThenCommandsWithTheirIds() {
        List<String> r = converse("{\"execute\": \"echo\", \"arguments\": {\"text\": \"x\"}}\n"
                + "{\"execute\": \"qmp_capabilities\", \"id\": 7}\n"
                + "{\"execute\": \"qmp_capabilities\"}"
                + "{\"execute\": \"echo\", \"arguments\": {\"text\": \"hi\"}, \"id\": {\"n\": [1]}}\n"
                + "{\"execute\": \"echo\", \"arguments\": {\"text\": 3}, \"id\": \"t\"}\n"
                + "{\"execute\": \"echo\", \"arguments\": {\"txt\": \"x\"}}\n"
                + "{\"execute\": \"echo\"}\n"
                + "{\"execute\": \"nope\", \"id\": null}\n"
                + "{\"execute\": \"boom\"}\n"
                + "{\"execute\": \"bug\"}\n");
        assertEquals(List.of(
                "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting capabilities negotiation with"
                        + " 'qmp_capabilities'\"}}",
                "{\"return\":{},\"id\":7}",
                "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Capabilities negotiation is already complete,"
                        + " command ignored\"}}",
                "{\"return\":\"hi\",\"id\":{\"n\":[1]}}",
                "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for 'text', expected:"
                        + " string\"},\"id\":\"t\"}",
                "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'txt' is unexpected\"}}",
                "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'text' is missing\"}}",
                "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command nope has not been found\"},"
                        + "\"id\":null}",
                "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"Device 'x' not found\"}}",
                "{\"error\":{\"class\":\"GenericError\",\"desc\":\"bug: java.lang.IllegalStateException: oops\"}}"),
                r);
    }

    @Test
    void malformedRequestsAreRefusedAsQemuRefusesThem() {
        List<String> r = converse("{\"execute\": \"qmp_capabilities\"}\n[1, 2]\n{\"arguments\": {}}\n"
                + "{\"execute\": 1}\n{\"execute\": \"echo\", \"arguments\": []}\n{\"execute\": \"echo\", \"x\": 1}\n"
                + "{\"execute\": tru}\n{\"execute\": \"echo\", \"arguments\": {\"text\": \"never\"}}\n");
        assertEquals("{\"return\":{}}", r.get(0));
        assertEquals("{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input must be a JSON object\"}}", r.get(1));
        assertEquals("{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input lacks member 'execute'\"}}",
                r.get(2));
        assertEquals("{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input member 'execute' must be a"
                + " string\"}}", r.get(3));
        assertEquals("{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input member 'arguments' must be an"
                + " object\"}}", r.get(4));
        assertEquals("{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input member 'x' is unexpected\"}}",
                r.get(5));
        assertTrue(r.get(6).startsWith("{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, "),
                r.get(6));
        assertEquals(7, r.size(), "the connection ends after malformed JSON: " + r);
    }

    @Test
    void aMessageLargerThanTheLimitEndsTheSessionWithAnError() {
        // many small values: each within the parser's own limits, together more than one message may hold
        String big = "{\"execute\": \"qmp_capabilities\"}{\"execute\": \"echo\", \"arguments\": {\"text\": ["
                + "1,".repeat(QmpSession.MAX_MESSAGE) + "1]}}";
        List<String> r = converse(big);
        assertEquals("{\"return\":{}}", r.get(0));
        assertEquals(2, r.size(), r.toString());
        assertTrue(r.get(1).contains("QMP input exceeds " + QmpSession.MAX_MESSAGE + " bytes"), r.get(1));
    }

    @Test
    void nestingIsBounded() {
        String deep = "{\"execute\": \"qmp_capabilities\"}{\"execute\": \"echo\", \"arguments\": {\"text\": "
                + "[".repeat(1000) + "]".repeat(1000) + "}}";
        List<String> r = converse(deep);
        assertEquals(2, r.size(), r.toString());
        assertTrue(r.get(1).contains("JSON parse error") && r.get(1).contains("nesting depth"), r.get(1));
    }

    @Test
    void commandLinesSplitAsAShellWould() {
        assertEquals(List.of("savevm", "my snap", "a\"b", "c d"), CommandLine.split(" savevm 'my snap'  a\\\"b \"c d\""));
        assertEquals(List.of(), CommandLine.split("   "));
    }

    @Test
    void monitorAddressesAsQemusQmpOption() {
        assertEquals("unix:/tmp/x", MonitorAddress.parse("unix:/tmp/x,server=on,wait=off").text());
        assertEquals("tcp::4444", MonitorAddress.parse("tcp::4444,server,nowait").text());
        assertEquals(4444, ((java.net.InetSocketAddress) MonitorAddress.parse("tcp:localhost:4444").address())
                .getPort());
        String e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> MonitorAddress.parse("unix:/tmp/x,wait=on")).getMessage();
        assertTrue(e.contains("'wait=on' is not supported"), e);
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> MonitorAddress.parse("stdio")).getMessage();
        assertTrue(e.contains("expected unix:PATH or tcp:[HOST]:PORT"), e);
    }
}
