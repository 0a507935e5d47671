package org.savevm.migration.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * Gathers the many small writes of a migration stream (a 4 KiB page and its header per write) into
 * one big buffer, so the socket sees one system call per megabyte instead of one per page, much as
 * QEMU's QEMUFile collects iovecs before writev. {@link #flush()} must be called before the stream is
 * considered sent. Not thread-safe: one writer.
 */
public final class CoalescingChannel implements WritableByteChannel {
    public static final int DEFAULT_CAPACITY = 1 << 20;

    private final WritableByteChannel target;
    private final ByteBuffer buf;

    public CoalescingChannel(WritableByteChannel target, int capacity) {
        this.target = target;
        this.buf = ByteBuffer.allocateDirect(capacity);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        if (buf.position() == 0 && n >= buf.capacity()) {
            while (src.hasRemaining()) {
                target.write(src);
            }
            return n;
        }
        while (src.hasRemaining()) {
            if (!buf.hasRemaining()) {
                flush();
            }
            int take = Math.min(buf.remaining(), src.remaining());
            ByteBuffer part = src.slice();
            part.limit(take);
            buf.put(part);
            src.position(src.position() + take);
        }
        return n;
    }

    /** Sends everything gathered so far. */
    public void flush() throws IOException {
        buf.flip();
        try {
            while (buf.hasRemaining()) {
                target.write(buf);
            }
        } finally {
            buf.clear();
        }
    }

    @Override
    public boolean isOpen() {
        return target.isOpen();
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            target.close();
        }
    }
}
