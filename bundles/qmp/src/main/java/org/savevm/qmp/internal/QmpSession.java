package org.savevm.qmp.internal;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.savevm.api.qmp.QmpArgs;
import org.savevm.api.qmp.QmpError;
import org.savevm.api.qmp.QmpEvents;
import org.savevm.api.qmp.QmpHandler;

/**
 * One QMP client, as QEMU 7.2's monitor/qmp.c serves it: the greeting, then only {@code qmp_capabilities} until it
 * succeeded, then commands, each answered with {@code {"return": ...}} or {@code {"error": {"class", "desc"}}} and
 * the request's {@code id}; events once negotiated. Replies and events are whole lines ending in CR LF.
 *
 * <p>Input is untrusted: a message may take at most {@link #MAX_MESSAGE} bytes and nest {@link #MAX_DEPTH} deep
 * (QEMU's JSON parser limits tokens and nesting too). QEMU's parser resynchronises after malformed JSON; this one
 * answers the parse error and closes the connection, as what follows a malformed value is not reliably framed.
 */
final class QmpSession implements Runnable {
    static final int MAX_MESSAGE = 1 << 20;
    static final int MAX_DEPTH = 64;

    /** The commands the session dispatches to, looked up at each request (bundles come and go). */
    interface Commands {
        QmpHandler find(String name);
    }

    private final InputStream in;
    private final OutputStream out;
    private final Commands commands;
    private final QmpEvents events;
    private final Map<String, Object> greeting;
    private final ObjectMapper mapper = new ObjectMapper();
    private volatile boolean negotiated;

    QmpSession(InputStream in, OutputStream out, Commands commands, QmpEvents events, Map<String, Object> greeting) {
        this.in = in;
        this.out = out;
        this.commands = commands;
        this.events = events;
        this.greeting = greeting;
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(MAX_DEPTH).maxStringLength(MAX_MESSAGE).maxNumberLength(64).build());
    }

    boolean negotiated() {
        return negotiated;
    }

    @Override
    public void run() {
        BoundedInput bounded = new BoundedInput(in);
        try {
            send(greeting); // before the parser exists: creating it reads the first bytes (encoding detection)
        } catch (IOException e) {
            return;
        }
        try (JsonParser p = mapper.getFactory().createParser(bounded)) {
            while (true) {
                JsonNode request;
                try {
                    JsonToken t = p.nextToken();
                    if (t == null) {
                        return; // the client closed
                    }
                    request = mapper.readTree(p);
                } catch (JsonProcessingException e) {
                    send(error(null, QmpError.GENERIC, "JSON parse error, " + e.getOriginalMessage()));
                    return;
                }
                bounded.messageDone();
                send(handle(request));
            }
        } catch (IOException e) {
            // the client went away (or sent more than a message may hold: answered in BoundedInput's exception)
            if (e instanceof TooLarge) {
                try {
                    send(error(null, QmpError.GENERIC, e.getMessage()));
                } catch (IOException ignored) {
                    // gone as well
                }
            }
        }
    }

    /** The reply to one request. */
    Map<String, Object> handle(JsonNode request) {
        if (!(request instanceof ObjectNode o)) {
            return error(null, QmpError.GENERIC, "QMP input must be a JSON object");
        }
        Id id = o.has("id") ? new Id(mapper.convertValue(o.get("id"), Object.class)) : null;
        for (Iterator<String> names = o.fieldNames(); names.hasNext();) {
            String n = names.next();
            if (!List.of("execute", "arguments", "id").contains(n)) {
                return error(id, QmpError.GENERIC, "QMP input member '" + n + "' is unexpected");
            }
        }
        JsonNode exec = o.get("execute");
        if (exec == null) {
            return error(id, QmpError.GENERIC, "QMP input lacks member 'execute'");
        }
        if (!exec.isTextual()) {
            return error(id, QmpError.GENERIC, "QMP input member 'execute' must be a string");
        }
        JsonNode argNode = o.get("arguments");
        if (argNode != null && !argNode.isObject()) {
            return error(id, QmpError.GENERIC, "QMP input member 'arguments' must be an object");
        }
        String name = exec.asText();
        @SuppressWarnings("unchecked")
        Map<String, Object> args = argNode == null ? Map.of() : mapper.convertValue(argNode, Map.class);
        if (!negotiated && !name.equals("qmp_capabilities")) {
            return error(id, "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
        }
        if (negotiated && name.equals("qmp_capabilities")) {
            return error(id, "CommandNotFound", "Capabilities negotiation is already complete, command ignored");
        }
        try {
            Object result;
            if (name.equals("qmp_capabilities")) {
                QmpArgs.of(args, "enable");
                if (args.get("enable") instanceof List<?> l && !l.isEmpty()) {
                    throw new QmpError("Capability '" + l.get(0) + "' not available");
                }
                negotiated = true;
                result = Map.of();
            } else {
                QmpHandler h = commands.find(name);
                if (h == null) {
                    return error(id, "CommandNotFound", "The command " + name + " has not been found");
                }
                result = h.execute(args, events);
            }
            Map<String, Object> reply = new LinkedHashMap<>();
            reply.put("return", result == null ? Map.of() : result);
            if (id != null) {
                reply.put("id", id.value());
            }
            return reply;
        } catch (QmpError e) {
            return error(id, e.errorClass(), e.getMessage());
        } catch (RuntimeException e) {
            // a handler's bug must not end the monitor: the client learns what failed
            return error(id, QmpError.GENERIC, name + ": " + e);
        }
    }

    /** A request's id, echoed as it came (any JSON value, null included). */
    private record Id(Object value) {
    }

    private static Map<String, Object> error(Id id, String cls, String desc) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("class", cls);
        e.put("desc", desc);
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("error", e);
        if (id != null) {
            reply.put("id", id.value());
        }
        return reply;
    }

    /** One line of JSON; replies and events from other threads never interleave. */
    synchronized void send(Map<String, Object> message) throws IOException {
        out.write(mapper.writeValueAsString(message).getBytes(StandardCharsets.UTF_8));
        out.write('\r');
        out.write('\n');
        out.flush();
    }

    private static final class TooLarge extends IOException {
        private static final long serialVersionUID = 1L;

        TooLarge() {
            super("QMP input exceeds " + MAX_MESSAGE + " bytes in one message");
        }
    }

    /** Counts what the parser consumed since the last complete message (its read-ahead is 8 KiB at most). */
    private static final class BoundedInput extends FilterInputStream {
        private long sinceMessage;

        BoundedInput(InputStream in) {
            super(in);
        }

        void messageDone() {
            sinceMessage = 0;
        }

        private void count(int n) throws TooLarge {
            if (n > 0 && (sinceMessage += n) > MAX_MESSAGE + 16 * 1024) {
                throw new TooLarge();
            }
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            count(b < 0 ? 0 : 1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            count(n);
            return n;
        }
    }
}
