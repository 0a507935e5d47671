package org.savevm.migration.transport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code exec:COMMAND} through {@code /bin/sh -c}: the source writes into the command's stdin, the
 * destination reads its stdout. The command's stderr is kept (bounded) for the error message.
 */
final class ExecConnection implements Connection {
    private static final int STDERR_KEEP = 4096;
    private static final long EXIT_WAIT_SECONDS = 30;

    private final String command;
    private final Process process;
    private final boolean outgoing;
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final Thread stderrReader;

    ExecConnection(String command, boolean outgoing) throws IOException {
        this.command = command;
        this.outgoing = outgoing;
        ProcessBuilder pb = new ProcessBuilder(List.of("/bin/sh", "-c", command));
        if (outgoing) {
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        } else {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        this.process = pb.start();
        this.stderrReader = new Thread(this::drainStderr, "exec-stderr");
        stderrReader.setDaemon(true);
        stderrReader.start();
    }

    private void drainStderr() {
        byte[] b = new byte[1024];
        try (InputStream in = process.getErrorStream()) {
            int n;
            while ((n = in.read(b)) > 0) {
                synchronized (stderr) {
                    if (stderr.size() < STDERR_KEEP) {
                        stderr.write(b, 0, Math.min(n, STDERR_KEEP - stderr.size()));
                    }
                }
            }
        } catch (IOException ignored) {
            // The process went away; what was read is enough for the message.
        }
    }

    @Override
    public WritableByteChannel output() throws IOException {
        if (!outgoing) {
            throw new IOException("exec: incoming command has no input to write");
        }
        return Channels.newChannel(process.getOutputStream());
    }

    @Override
    public ReadableByteChannel input() throws IOException {
        if (outgoing) {
            throw new IOException("exec: outgoing command has no output to read");
        }
        return Channels.newChannel(process.getInputStream());
    }

    @Override
    public void abort() {
        process.destroyForcibly();
    }

    @Override
    public void close() throws IOException {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // A command that exited early closed its stdin already.
        }
        try {
            if (!process.waitFor(EXIT_WAIT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("exec:" + command + " did not exit within " + EXIT_WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted while waiting for exec:" + command, e);
        } finally {
            process.getInputStream().close();
        }
        int rc = process.exitValue();
        if (rc != 0 && outgoing) {
            try {
                stderrReader.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            String err;
            synchronized (stderr) {
                err = stderr.toString(StandardCharsets.UTF_8).trim();
            }
            throw new IOException("exec:" + command + " exited with status " + rc + (err.isEmpty() ? "" : ": " + err));
        }
    }
}
