package org.savevm.migration.multifd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.ScatteringByteChannel;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;

import org.savevm.api.machine.MultifdReceiver;
import org.savevm.api.machine.RamBlock;
import org.savevm.stream.Printable;

/**
 * The destination's multifd channels (QEMU's multifd_recv_state and multifd_recv_thread): a thread per
 * connection checks the initial packet, then reads packet headers and scatters each packet's pages
 * straight into guest RAM, with no copy through a stream buffer. At a SYNC packet the channel stops until
 * the ram handler's EOS releases all channels together ({@link #syncMain()}), so a page sent again in a
 * later round never lands before its older copy.
 */
public final class MultifdRecvChannels implements MultifdReceiver, AutoCloseable {
    private static final long POLL_MILLIS = 100;
    /**
     * The source writes every channel's SYNC packet before the EOS that asks for them, so by the time the
     * loader reads that EOS they are on their way: a minute without them means a channel is stuck.
     */
    private static final long SYNC_TIMEOUT_MILLIS = 60_000;

    private final Channel[] channels;
    private final long syncTimeoutMillis;
    /** The compression bits packets with pages must carry: 0, or FLAG_ZLIB. */
    private final int compression;
    private final Function<String, Optional<RamBlock>> blocks;
    private final Consumer<IOException> onFailure;
    private final Semaphore syncArrived = new Semaphore(0);
    private final boolean[] idSeen;
    private volatile IOException failure;
    private final AtomicBoolean failed = new AtomicBoolean();
    private volatile boolean closed;
    private final LongAdder bytes = new LongAdder();
    private final LongAdder pages = new LongAdder();

    private final class Channel implements Runnable {
        final int index;
        final ReadableByteChannel in;
        final Semaphore release = new Semaphore(0);
        final ByteBuffer header = ByteBuffer.allocateDirect(MultifdWire.PACKET_HEADER_SIZE).order(ByteOrder.BIG_ENDIAN);
        final PacketDeflater.PacketInflater inflater = compression != 0 ? new PacketDeflater.PacketInflater() : null;
        int id = -1;
        long position;
        Thread thread;

        Channel(int index, ReadableByteChannel in) {
            this.index = index;
            this.in = in;
        }

        private String where() {
            return "multifd channel " + (id >= 0 ? id : "#" + index) + " at byte " + position;
        }

        @Override
        public void run() {
            try {
                ByteBuffer init = ByteBuffer.allocate(MultifdWire.INIT_SIZE).order(ByteOrder.BIG_ENDIAN);
                if (!readFully(new ByteBuffer[] {init}, false)) {
                    throw new EOFException("connection closed before the initial packet");
                }
                int got = MultifdWire.parseInit(init, channels.length);
                synchronized (idSeen) {
                    if (idSeen[got]) {
                        throw new IOException("multifd: a second channel with id " + got);
                    }
                    idSeen[got] = true;
                }
                id = got;
                while (!closed) {
                    header.clear();
                    long at = position;
                    if (!readFully(new ByteBuffer[] {header}, true)) {
                        return; // the source closed the channel between packets: the end
                    }
                    MultifdWire.Header h;
                    try {
                        h = MultifdWire.parseHeader(header, compression);
                    } catch (IOException e) {
                        throw new IOException(e.getMessage() + " (packet at byte " + at + ")", e);
                    }
                    if (h.used() > 0) {
                        readPages(h, at);
                    }
                    bytes.add(position - at);
                    if (h.sync()) {
                        syncArrived.release();
                        while (!release.tryAcquire(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                            if (closed || failure != null) {
                                return;
                            }
                        }
                    }
                }
            } catch (IOException e) {
                fail(new IOException(where() + ": " + e.getMessage(), e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                fail(new IOException(where() + ": " + e, e));
            } finally {
                if (inflater != null) {
                    inflater.close();
                }
            }
        }

        private void readPages(MultifdWire.Header h, long at) throws IOException {
            RamBlock b = blocks.apply(h.block()).orElseThrow(() -> new IOException(
                    "multifd: unknown ram block " + Printable.escape(h.block()) + " (packet at byte " + at + ")"));
            ByteBuffer[] dst = new ByteBuffer[h.used()];
            for (int i = 0; i < dst.length; i++) {
                long off = h.offsets()[i];
                if (off < 0 || off > b.usedLength() - RamBlock.TARGET_PAGE_SIZE) {
                    throw new IOException("multifd: offset too long " + Long.toUnsignedString(off) + " (max 0x"
                            + Long.toHexString(b.usedLength()) + ") in block " + Printable.escape(h.block()) + " (packet at byte " + at + ")");
                }
                if ((off & (RamBlock.TARGET_PAGE_SIZE - 1)) != 0) {
                    throw new IOException("multifd: unaligned page offset 0x" + Long.toHexString(off) + " in block "
                            + Printable.escape(h.block()) + " (packet at byte " + at + ")");
                }
                dst[i] = b.incomingPage(off);
            }
            if (inflater != null) {
                if (!readFully(new ByteBuffer[] {inflater.buffer((int) h.nextPacketSize())}, false)) {
                    throw new EOFException("connection closed inside a packet's compressed pages");
                }
                try {
                    inflater.inflate(dst);
                } catch (IOException e) {
                    throw new IOException(e.getMessage() + " (packet at byte " + at + ")", e);
                }
            } else if (!readFully(dst, false)) {
                throw new EOFException("connection closed inside a packet's pages");
            }
            pages.add(dst.length);
        }

        /** False only when {@code eofOk} and the channel ended before the first byte. */
        private boolean readFully(ByteBuffer[] dst, boolean eofOk) throws IOException {
            int first = 0;
            boolean any = false;
            while (first < dst.length) {
                long n = in instanceof ScatteringByteChannel s ? s.read(dst, first, dst.length - first) : in.read(dst[first]);
                if (n < 0) {
                    if (eofOk && !any) {
                        return false;
                    }
                    throw new EOFException("connection closed inside a packet");
                }
                any |= n > 0;
                position += n;
                while (first < dst.length && !dst[first].hasRemaining()) {
                    first++;
                }
            }
            return true;
        }
    }

    /**
     * @param inputs    the channels in the order they connected; each says its id in its initial packet
     * @param blocks    guest RAM blocks by idstr
     * @param onFailure told once when a channel fails, e.g. to break the main stream the loader is reading
     */
    public MultifdRecvChannels(List<? extends ReadableByteChannel> inputs, Function<String, Optional<RamBlock>> blocks,
            Consumer<IOException> onFailure) {
        this(inputs, blocks, onFailure, SYNC_TIMEOUT_MILLIS, false);
    }

    /** As above; {@code zlib} for multifd-compression zlib. */
    public MultifdRecvChannels(List<? extends ReadableByteChannel> inputs, Function<String, Optional<RamBlock>> blocks,
            Consumer<IOException> onFailure, boolean zlib) {
        this(inputs, blocks, onFailure, SYNC_TIMEOUT_MILLIS, zlib);
    }

    /**
     * @param syncTimeoutMillis how long {@link #syncMain()} waits for the channels' SYNC packets
     * @param zlib              multifd-compression zlib: packets with pages must be zlib-compressed
     */
    public MultifdRecvChannels(List<? extends ReadableByteChannel> inputs, Function<String, Optional<RamBlock>> blocks,
            Consumer<IOException> onFailure, long syncTimeoutMillis, boolean zlib) {
        this.syncTimeoutMillis = syncTimeoutMillis;
        this.compression = zlib ? MultifdWire.FLAG_ZLIB : 0;
        if (inputs.isEmpty() || inputs.size() > 255) {
            throw new IllegalArgumentException("multifd needs 1 to 255 channels, got " + inputs.size());
        }
        this.blocks = blocks;
        this.onFailure = onFailure;
        this.idSeen = new boolean[inputs.size()];
        this.channels = new Channel[inputs.size()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = new Channel(i, inputs.get(i));
        }
    }

    /**
     * Runs every channel to its end on the calling thread, each SYNC released at once (no main stream to
     * wait for): the fuzz target's synchronous drive of the real receive path. Returns the first failure.
     */
    IOException receiveInline() {
        for (Channel c : channels) {
            c.release.release(Integer.MAX_VALUE / 2);
            c.run();
        }
        return failure;
    }

    public void start() {
        for (Channel c : channels) {
            Thread t = new Thread(c, "multifdrecv_" + c.index);
            t.setDaemon(true);
            c.thread = t;
            t.start();
        }
    }

    /** The first failure only: the loader is told before a waiting sync sees it. */
    private void fail(IOException e) {
        if (!failed.compareAndSet(false, true)) {
            return;
        }
        try {
            onFailure.accept(e);
        } finally {
            failure = e;
            syncArrived.release(channels.length);
        }
    }

    @Override
    public void syncMain() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(syncTimeoutMillis);
        try {
            for (int i = 0; i < channels.length; i++) {
                while (!syncArrived.tryAcquire(Math.min(POLL_MILLIS, syncTimeoutMillis), TimeUnit.MILLISECONDS)) {
                    checkFailure();
                    if (!anyAlive()) {
                        throw new IOException("multifd: the channels ended before the sync of this round");
                    }
                    if (System.nanoTime() > deadline) {
                        IOException e = new IOException("multifd: no SYNC from " + (channels.length - i) + " of "
                                + channels.length + " channels within " + syncTimeoutMillis
                                + " ms of the ram EOS that waits for them");
                        fail(e);
                        throw e;
                    }
                }
                checkFailure();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the multifd channels", e);
        }
        for (Channel c : channels) {
            c.release.release();
        }
    }

    private boolean anyAlive() {
        for (Channel c : channels) {
            if (c.thread != null && c.thread.isAlive()) {
                return true;
            }
        }
        return false;
    }

    private void checkFailure() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException(f.getMessage(), f);
        }
    }

    /** The first channel failure, null while there is none. */
    public IOException failure() {
        return failure;
    }

    /** Bytes read on the channels, headers included. */
    public long bytes() {
        return bytes.sum();
    }

    public long pages() {
        return pages.sum();
    }

    /** Stops the threads and closes the connections. */
    @Override
    public void close() {
        closed = true;
        for (Channel c : channels) {
            try {
                c.in.close();
            } catch (IOException ignored) {
                // closing wakes the reader; nothing else to do
            }
        }
        for (Channel c : channels) {
            if (c.thread != null) {
                c.thread.interrupt();
                try {
                    c.thread.join(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
