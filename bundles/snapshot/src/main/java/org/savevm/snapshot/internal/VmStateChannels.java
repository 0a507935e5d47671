package org.savevm.snapshot.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

import org.savevm.api.block.InternalSnapshots;

/** The VM state area of an image as a byte stream (QEMU's qemu_fopen_bdrv), from position 0. */
final class VmStateChannels {
    private VmStateChannels() {
    }

    /** Appends to the image's VM state area (for the snapshot created next). */
    static final class Writer implements WritableByteChannel {
        private final InternalSnapshots snapshots;
        private long position;
        private boolean open = true;

        Writer(InternalSnapshots snapshots) {
            this.snapshots = snapshots;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (!open) {
                throw new ClosedChannelException();
            }
            int n = src.remaining();
            ByteBuffer view = src.slice();
            snapshots.writeVmState(position, view);
            src.position(src.position() + n);
            position += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }

    /** Reads the VM state of one snapshot up to its recorded size, then end of stream. */
    static final class Reader implements ReadableByteChannel {
        private final InternalSnapshots snapshots;
        private final String id;
        private final long size;
        private long position;
        private boolean open = true;

        Reader(InternalSnapshots snapshots, String id, long size) {
            this.snapshots = snapshots;
            this.id = id;
            this.size = size;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (!open) {
                throw new ClosedChannelException();
            }
            if (position >= size) {
                return -1;
            }
            int len = (int) Math.min(dst.remaining(), size - position);
            if (len == 0) {
                return 0;
            }
            ByteBuffer view = dst.slice(dst.position(), len);
            int n = snapshots.readVmState(id, position, view);
            if (n <= 0) {
                return -1;
            }
            dst.position(dst.position() + n);
            position += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }
}
