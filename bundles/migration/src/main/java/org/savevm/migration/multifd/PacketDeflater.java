package org.savevm.migration.multifd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * multifd-compression zlib as QEMU 7.2 does it (migration/multifd-zlib.c): each channel keeps one zlib
 * stream for the whole migration; a packet's pages are deflated in order and the last is sync-flushed, so
 * every packet ends on a byte boundary the receiver can inflate up to.
 */
final class PacketDeflater implements AutoCloseable {
    private final Deflater deflater;
    private final ByteBuffer out = ByteBuffer.allocateDirect(MultifdWire.MAX_COMPRESSED);

    PacketDeflater(int level) {
        this.deflater = new Deflater(level);
    }

    /** The packet's pages compressed; valid until the next call. */
    ByteBuffer compress(ByteBuffer[] pages) throws IOException {
        out.clear();
        for (int i = 0; i < pages.length; i++) {
            deflater.setInput(pages[i].duplicate());
            boolean last = i == pages.length - 1;
            while (!deflater.needsInput()) {
                deflate(Deflater.NO_FLUSH);
            }
            if (last) {
                // sync flush: all output out, until deflate leaves room in the buffer
                while (deflate(Deflater.SYNC_FLUSH) == 0) {
                    // more to flush
                }
            }
        }
        out.flip();
        return out;
    }

    /** One deflate call; 0 when it filled the buffer's remaining space (call again), else 1. */
    private int deflate(int flush) throws IOException {
        int room = out.remaining();
        if (room == 0) {
            throw new IOException("multifd: a compressed packet outgrew " + MultifdWire.MAX_COMPRESSED + " bytes");
        }
        int n = deflater.deflate(out, flush);
        return n == room ? 0 : 1;
    }

    @Override
    public void close() {
        deflater.end();
    }

    /**
     * The receiving side: one inflate stream per channel; the packet's compressed bytes are inflated page by
     * page straight into guest RAM. Input the stream has not consumed when the pages are full stays for the
     * next packet, as it belongs to the same stream.
     */
    static final class PacketInflater implements AutoCloseable {
        private final Inflater inflater = new Inflater();
        private final ByteBuffer in = ByteBuffer.allocateDirect(MultifdWire.MAX_COMPRESSED + 4096);
        private final ByteBuffer scratch = ByteBuffer.allocateDirect(1);

        /** Room for a packet's compressed bytes after any left from the last one. */
        ByteBuffer buffer(int size) throws IOException {
            ByteBuffer left = inflater.getRemaining() > 0 ? leftover() : ByteBuffer.allocate(0);
            if (left.remaining() + size > in.capacity()) {
                throw new IOException("multifd: " + left.remaining() + " bytes left over from the last packet and "
                        + size + " new ones do not fit");
            }
            in.clear();
            in.put(left);
            ByteBuffer room = in.slice(in.position(), size);
            in.limit(in.position() + size);
            return room;
        }

        private ByteBuffer leftover() {
            int n = inflater.getRemaining();
            // the last input buffer's unconsumed tail is its last n bytes
            ByteBuffer tail = in.duplicate();
            tail.position(tail.limit() - n);
            ByteBuffer copy = ByteBuffer.allocate(n);
            copy.put(tail).flip();
            return copy;
        }

        /** Inflates the buffer filled after {@link #buffer(int)} into {@code pages}, each exactly full. */
        void inflate(ByteBuffer[] pages) throws IOException {
            in.position(0);
            inflater.setInput(in);
            long expected = 0;
            long before = inflater.getBytesWritten();
            try {
                for (ByteBuffer page : pages) {
                    expected += page.remaining();
                    while (page.hasRemaining()) {
                        int n = inflater.inflate(page);
                        if (n == 0 && (inflater.needsInput() || inflater.finished() || inflater.needsDictionary())) {
                            throw new IOException("multifd: inflate generated too few output");
                        }
                    }
                }
                // consume what the sync flush left (an empty stored block): it must not yield data
                while (inflater.getRemaining() > 0 && !inflater.finished()) {
                    scratch.clear();
                    int remaining = inflater.getRemaining();
                    if (inflater.inflate(scratch) > 0) {
                        throw new IOException("multifd: a compressed packet holds more than its " + pages.length
                                + " pages");
                    }
                    if (inflater.getRemaining() == remaining) {
                        break; // no progress: the rest belongs to the next packet
                    }
                }
            } catch (DataFormatException e) {
                throw new IOException("multifd: bad zlib data: " + e.getMessage(), e);
            }
            long got = inflater.getBytesWritten() - before;
            if (got != expected) {
                throw new IOException("multifd: packet size received " + got + " size expected " + expected);
            }
        }

        @Override
        public void close() {
            inflater.end();
        }
    }
}
