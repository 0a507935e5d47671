package org.savevm.migration.multifd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.savevm.api.machine.MultifdSender;
import org.savevm.api.machine.RamBlock;

/**
 * The source's multifd channels (QEMU's multifd_send_state and multifd_send_thread): one thread per
 * connection writes its initial packet, then the packets the migration thread hands it: a header and the
 * pages by reference, in one gathering write. A channel takes a new data packet only once it has written
 * the last; a sync packet goes to every channel regardless. A channel that fails fails the migration at
 * the next call.
 */
public final class MultifdSendChannels implements MultifdSender, AutoCloseable {
    /** How long the migration thread waits in one go before checking for a failed channel again. */
    private static final long POLL_MILLIS = 100;

    private final Channel[] channels;
    /** zlib level with multifd-compression zlib, -1 without compression. */
    private final int zlibLevel;
    /** Compressed size minus page bytes so far (negative when compression gains), for {@link #bytes()}. */
    private final AtomicLong compressedBytes = new AtomicLong();
    private final Semaphore ready = new Semaphore(0);
    private volatile IOException failure;
    private volatile boolean closed;
    private volatile long bytes;

    private RamBlock block;
    private final long[] offsets = new long[MultifdWire.PACKET_PAGES];
    private int used;
    private long packetNum;
    private int nextChannel;

    /** A packet for a channel; {@code pages} null for a sync packet. */
    private record Job(int flags, String block, long[] offsets, ByteBuffer[] pages, long packetNum) {
    }

    private final class Channel implements Runnable {
        final int id;
        final WritableByteChannel out;
        final BlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
        /** 1 while a data packet is queued or being written. */
        final AtomicInteger pending = new AtomicInteger();
        final Semaphore synced = new Semaphore(0);
        final ByteBuffer header = ByteBuffer.allocateDirect(MultifdWire.PACKET_HEADER_SIZE).order(ByteOrder.BIG_ENDIAN);
        /** multifd-compression zlib: one deflate stream per channel for the whole migration, as QEMU's. */
        final PacketDeflater deflater = zlibLevel >= 0 ? new PacketDeflater(zlibLevel) : null;
        Thread thread;

        Channel(int id, WritableByteChannel out) {
            this.id = id;
            this.out = out;
        }

        @Override
        public void run() {
            try {
                writeFully(new ByteBuffer[] {MultifdWire.initPacket(id)});
                ready.release();
                while (!closed) {
                    Job j = jobs.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                    if (j == null) {
                        continue;
                    }
                    int n = j.pages == null ? 0 : j.pages.length;
                    if (deflater != null && n > 0) {
                        ByteBuffer z = deflater.compress(j.pages);
                        MultifdWire.putHeader(header, j.flags | MultifdWire.FLAG_ZLIB, j.block, j.offsets, n, j.packetNum,
                                z.remaining());
                        compressedBytes.addAndGet(z.remaining() - (long) n * RamBlock.TARGET_PAGE_SIZE);
                        writeFully(new ByteBuffer[] {header, z});
                    } else {
                        MultifdWire.putHeader(header, j.flags, j.block, j.offsets, n, j.packetNum);
                        ByteBuffer[] bufs = new ByteBuffer[1 + n];
                        bufs[0] = header;
                        for (int i = 0; i < n; i++) {
                            bufs[1 + i] = j.pages[i];
                        }
                        writeFully(bufs);
                    }
                    if ((j.flags & MultifdWire.FLAG_SYNC) != 0) {
                        synced.release();
                    } else {
                        pending.set(0);
                        ready.release();
                    }
                }
            } catch (IOException e) {
                fail(new IOException("multifd channel " + id + ": " + e.getMessage(), e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                fail(new IOException("multifd channel " + id + ": " + e, e));
            } finally {
                if (deflater != null) {
                    deflater.close();
                }
            }
        }

        private void writeFully(ByteBuffer[] bufs) throws IOException {
            long left = 0;
            for (ByteBuffer b : bufs) {
                left += b.remaining();
            }
            int first = 0;
            while (left > 0) {
                long n;
                if (out instanceof GatheringByteChannel g) {
                    n = g.write(bufs, first, bufs.length - first);
                } else {
                    n = out.write(bufs[first]);
                }
                left -= n;
                while (first < bufs.length && !bufs[first].hasRemaining()) {
                    first++;
                }
            }
        }
    }

    /** Starts a thread per connection; each sends its initial packet at once. */
    public MultifdSendChannels(List<? extends WritableByteChannel> outputs) {
        this(outputs, -1);
    }

    /** As above; {@code zlibLevel} 0-9 compresses every packet (multifd-compression zlib), -1 does not. */
    public MultifdSendChannels(List<? extends WritableByteChannel> outputs, int zlibLevel) {
        if (zlibLevel < -1 || zlibLevel > 9) {
            throw new IllegalArgumentException("zlib level " + zlibLevel);
        }
        this.zlibLevel = zlibLevel;
        if (outputs.isEmpty() || outputs.size() > 255) {
            throw new IllegalArgumentException("multifd needs 1 to 255 channels, got " + outputs.size());
        }
        channels = new Channel[outputs.size()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = new Channel(i, outputs.get(i));
            Thread t = new Thread(channels[i], "multifdsend_" + i);
            t.setDaemon(true);
            channels[i].thread = t;
            t.start();
        }
    }

    public int channelCount() {
        return channels.length;
    }

    private void fail(IOException e) {
        if (failure == null) {
            failure = e;
        }
        // wake a migration thread waiting for a channel or a sync
        ready.release(channels.length);
        for (Channel c : channels) {
            c.synced.release();
        }
    }

    private void checkFailure() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException(f.getMessage(), f);
        }
        if (closed) {
            throw new IOException("multifd channels closed");
        }
    }

    @Override
    public void queuePage(RamBlock b, long offset) throws IOException {
        if (used > 0 && b != block) {
            sendPages();
        }
        block = b;
        offsets[used++] = offset;
        if (used == MultifdWire.PACKET_PAGES) {
            sendPages();
        }
    }

    /** multifd_send_pages: the filled packet to the next channel without a data packet in hand. */
    private void sendPages() throws IOException {
        checkFailure();
        try {
            while (!ready.tryAcquire(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                checkFailure();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for a multifd channel", e);
        }
        checkFailure();
        Channel c = null;
        for (int k = 0; k < channels.length; k++) {
            Channel x = channels[(nextChannel + k) % channels.length];
            if (x.pending.compareAndSet(0, 1)) {
                c = x;
                nextChannel = (x.id + 1) % channels.length;
                break;
            }
        }
        if (c == null) {
            throw new IllegalStateException("a multifd channel was ready but none was free");
        }
        ByteBuffer[] pages = new ByteBuffer[used];
        long[] offs = new long[used];
        for (int i = 0; i < used; i++) {
            offs[i] = offsets[i];
            pages[i] = block.page(offsets[i]);
        }
        c.jobs.add(new Job(0, block.idstr(), offs, pages, packetNum++));
        bytes += (long) used * RamBlock.TARGET_PAGE_SIZE + MultifdWire.PACKET_HEADER_SIZE;
        used = 0;
        block = null;
    }

    @Override
    public void syncMain() throws IOException {
        if (used > 0) {
            sendPages();
        }
        checkFailure();
        for (Channel c : channels) {
            c.jobs.add(new Job(MultifdWire.FLAG_SYNC, null, null, null, packetNum++));
            bytes += MultifdWire.PACKET_HEADER_SIZE;
        }
        try {
            for (Channel c : channels) {
                while (!c.synced.tryAcquire(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                    checkFailure();
                }
                checkFailure();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the multifd channels to sync", e);
        }
    }

    /**
     * Bytes handed to the channels so far, headers included; with compression, the compressed size of the
     * packets already written (QEMU counts them at hand-off as well, before the size is known; here the
     * correction follows as each channel compresses).
     */
    @Override
    public long bytes() {
        return bytes + compressedBytes.get();
    }

    /** Stops the threads (what is queued and not yet written is dropped) and closes the connections. */
    @Override
    public void close() {
        closed = true;
        for (Channel c : channels) {
            c.thread.interrupt();
        }
        for (Channel c : channels) {
            try {
                c.thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                c.out.close();
            } catch (IOException ignored) {
                // the migration's outcome is decided elsewhere
            }
        }
    }
}
