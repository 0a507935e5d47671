package org.savevm.migration.transport;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;

/** A socket or file channel used in one direction. */
final class ChannelConnection implements Connection {
    private final ByteChannel channel;

    ChannelConnection(ByteChannel channel) {
        this.channel = channel;
    }

    @Override
    public WritableByteChannel output() {
        return channel;
    }

    @Override
    public ReadableByteChannel input() {
        return channel;
    }

    @Override
    public void finishOutput() throws IOException {
        if (channel instanceof SocketChannel s && s.isOpen()) {
            s.shutdownOutput();
        }
    }

    @Override
    public void abort() {
        try {
            if (channel instanceof SocketChannel s && s.isOpen()) {
                s.shutdownInput();
                s.shutdownOutput();
            }
        } catch (IOException ignored) {
            // Already broken: that is what abort wants.
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing a broken channel may fail; the point is only to unblock I/O.
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
