package org.savevm.framing.walk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

import org.savevm.stream.MigrationInput;

/**
 * Exposes the next {@code length} bytes of an input as a channel of its own, so that a PACKAGED blob is
 * parsed as a nested stream straight from the outer one, without buffering the whole blob and without
 * any way to read past its end.
 */
final class BoundedChannel implements ReadableByteChannel {
    private final MigrationInput outer;
    private long left;

    BoundedChannel(MigrationInput outer, long length) {
        this.outer = outer;
        this.left = length;
    }

    long remaining() {
        return left;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (left == 0) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), left);
        ByteBuffer slice = dst.slice();
        slice.limit(n);
        outer.readFully(slice);
        dst.position(dst.position() + n);
        left -= n;
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
