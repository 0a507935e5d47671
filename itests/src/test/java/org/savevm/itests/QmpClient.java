package org.savevm.itests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.savevm.stream.ChannelStreams;

/** A QMP client over a unix socket, the same for QEMU and savevm: replies in order, events kept apart. */
final class QmpClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SocketChannel channel;
    private final OutputStream out;
    private final BlockingQueue<JsonNode> replies = new LinkedBlockingQueue<>();
    private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
    final JsonNode greeting;

    private QmpClient(SocketChannel channel) throws IOException, InterruptedException {
        this.channel = channel;
        this.out = ChannelStreams.output(channel);
        BufferedReader in = new BufferedReader(new InputStreamReader(ChannelStreams.input(channel),
                StandardCharsets.UTF_8));
        Thread reader = new Thread(() -> {
            try {
                for (String line; (line = in.readLine()) != null;) {
                    JsonNode n = JSON.readTree(line);
                    (n.has("event") ? events : replies).add(n);
                }
            } catch (IOException ignored) {
                // closed
            }
        }, "qmp-client-reader");
        reader.setDaemon(true);
        reader.start();
        greeting = replies.poll(30, TimeUnit.SECONDS);
        if (greeting == null) {
            throw new IOException("no QMP greeting");
        }
    }

    /** Connects once the socket file exists (the monitor may still be starting). */
    static QmpClient connect(Path socket, long timeoutMillis) throws Exception {
        long end = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            if (Files.exists(socket)) {
                try {
                    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    return new QmpClient(ch);
                } catch (IOException e) {
                    if (System.currentTimeMillis() > end) {
                        throw e;
                    }
                }
            }
            if (System.currentTimeMillis() > end) {
                throw new IOException("no QMP socket " + socket);
            }
            Thread.sleep(50);
        }
    }

    /** Sends one request (any text, for malformed ones) and returns the reply. */
    JsonNode raw(String request) throws Exception {
        synchronized (out) {
            out.write((request + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        JsonNode r = replies.poll(120, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no reply to " + request);
        }
        return r;
    }

    JsonNode execute(String command, String argumentsJson) throws Exception {
        return raw("{\"execute\": \"" + command + "\"" + (argumentsJson == null ? "" : ", \"arguments\": "
                + argumentsJson) + "}");
    }

    /** The "return" member, failing with the error otherwise. */
    JsonNode ok(String command, String argumentsJson) throws Exception {
        JsonNode r = execute(command, argumentsJson);
        if (!r.has("return")) {
            throw new AssertionError(command + " " + argumentsJson + ": " + r);
        }
        return r.get("return");
    }

    /** Waits for an event named {@code name} whose data has status {@code status} (null: any); returns the ones seen. */
    List<JsonNode> awaitEvent(String name, String status, long timeoutMillis) throws InterruptedException {
        List<JsonNode> seen = new ArrayList<>();
        long end = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < end) {
            JsonNode e = events.poll(100, TimeUnit.MILLISECONDS);
            if (e != null) {
                seen.add(e);
                if (e.get("event").asText().equals(name)
                        && (status == null || status.equals(e.path("data").path("status").asText()))) {
                    return seen;
                }
            }
        }
        throw new AssertionError("no " + name + " " + status + " event; saw " + seen);
    }

    /** The events received so far. */
    List<JsonNode> drainEvents() {
        List<JsonNode> l = new ArrayList<>();
        events.drainTo(l);
        return l;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
