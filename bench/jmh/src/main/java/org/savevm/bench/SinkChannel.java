package org.savevm.bench;

import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/** Counts what is written and keeps it in {@code keep} when given, else drops it. */
final class SinkChannel implements WritableByteChannel {
    private final ByteBuffer keep;
    long bytes;

    SinkChannel(ByteBuffer keep) {
        this.keep = keep;
    }

    @Override
    public int write(ByteBuffer src) {
        int n = src.remaining();
        if (keep != null) {
            keep.put(src);
        } else {
            src.position(src.limit());
        }
        bytes += n;
        return n;
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public void close() {
    }
}
