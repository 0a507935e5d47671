package org.savevm.migration.returnpath;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.TimeUnit;

/**
 * The source's return-path thread (QEMU's source_return_path_thread) for precopy: reads PONGs and the
 * final SHUT. Anything else, a bad length or the channel ending before SHUT is a return-path error, which
 * fails the migration at completion as in QEMU's await_return_path_close_on_source.
 */
public final class ReturnPathReader {
    /** Where the destination's page requests go (postcopy). */
    public interface PageRequests {
        void request(String block, long start, long length) throws IOException;
    }

    private final ReadableByteChannel channel;
    private volatile PageRequests pageRequests;
    private String lastRequestedBlock;
    private final java.util.concurrent.atomic.AtomicLong pageRequestCount = new java.util.concurrent.atomic.AtomicLong();
    private final Object lock = new Object();
    private final Thread thread;
    private volatile int lastPong = -1;
    private volatile Integer shutStatus;
    private volatile String error;

    public ReturnPathReader(ReadableByteChannel channel) {
        this.channel = channel;
        this.thread = new Thread(this::run, "return-path");
        thread.setDaemon(true);
    }

    /** From the switch to postcopy on, page requests are served instead of refused. */
    public void acceptPageRequests(PageRequests sink) {
        this.pageRequests = sink;
    }

    public void start() {
        thread.start();
    }

    /** REQ_PAGES and REQ_PAGES_ID messages received. */
    public long pageRequests() {
        return pageRequestCount.get();
    }

    public int lastPong() {
        return lastPong;
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("return path closed before SHUT");
            }
        }
        b.flip();
    }

    private void run() {
        try {
            readUntilShut();
        } catch (IOException e) {
            finish(null, e.getMessage() == null ? e.toString() : e.getMessage());
        } catch (RuntimeException | Error e) {
            // a bug: the source must not wait for a SHUT that will never be read, nor hear of a bad message
            finish(null, "return path reader failed: " + e);
            throw e;
        }
    }

    /**
     * Reads messages until SHUT (then recorded for {@link #awaitShut}); throws on a bad message or a broken
     * channel. The reader thread's loop; the fuzz target drives it on its own thread.
     */
    void readUntilShut() throws IOException {
        {
            while (true) {
                ByteBuffer head = ByteBuffer.allocate(4);
                readFully(head);
                int type = head.getShort() & 0xffff;
                int len = head.getShort() & 0xffff;
                if (len > ReturnPathMessage.MAX_LEN) {
                    throw new IOException("return path message " + ReturnPathMessage.name(type) + " too long: " + len);
                }
                ByteBuffer body = ByteBuffer.allocate(len);
                readFully(body);
                switch (type) {
                    case ReturnPathMessage.PONG -> {
                        expectLength(type, len, 4);
                        lastPong = body.getInt();
                    }
                    case ReturnPathMessage.SHUT -> {
                        expectLength(type, len, 4);
                        finish(body.getInt(), null);
                        return;
                    }
                    case ReturnPathMessage.REQ_PAGES_ID, ReturnPathMessage.REQ_PAGES -> pageRequest(type, len, body);
                    default -> throw new IOException("unexpected return path message " + ReturnPathMessage.name(type)
                            + " in precopy");
                }
            }
        }
    }

    private void pageRequest(int type, int len, ByteBuffer body) throws IOException {
        PageRequests sink = pageRequests;
        if (sink == null) {
            throw new IOException("unexpected return path message " + ReturnPathMessage.name(type) + " in precopy");
        }
        // REQ_PAGES_ID also carries the name's length byte (a 12-byte one underflowed; ReturnPathFuzzTest)
        if (len < (type == ReturnPathMessage.REQ_PAGES_ID ? 13 : 12)) {
            throw new IOException("return path message " + ReturnPathMessage.name(type) + " too short: " + len);
        }
        long start = body.getLong();
        long length = body.getInt() & 0xffffffffL;
        if (type == ReturnPathMessage.REQ_PAGES_ID) {
            int n = body.get() & 0xff;
            if (len != 13 + n) {
                throw new IOException("return path message REQ_PAGES_ID has length " + len + ", expected " + (13 + n));
            }
            byte[] name = new byte[n];
            body.get(name);
            lastRequestedBlock = new String(name, java.nio.charset.StandardCharsets.UTF_8);
        } else if (len != 12) {
            throw new IOException("return path message REQ_PAGES has length " + len + ", expected 12");
        } else if (lastRequestedBlock == null) {
            throw new IOException("REQ_PAGES before any REQ_PAGES_ID");
        }
        pageRequestCount.incrementAndGet();
        sink.request(lastRequestedBlock, start, length);
    }

    private static void expectLength(int type, int len, int want) throws IOException {
        if (len != want) {
            throw new IOException("return path message " + ReturnPathMessage.name(type) + " has length " + len
                    + ", expected " + want);
        }
    }

    private void finish(Integer shut, String err) {
        synchronized (lock) {
            shutStatus = shut;
            error = err;
            lock.notifyAll();
        }
    }

    /**
     * Waits for the destination's SHUT. Throws when the destination reported a failed load, the return
     * path broke, or nothing came in time.
     */
    public void awaitShut(long timeout, TimeUnit unit) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (lock) {
            while (shutStatus == null && error == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("no SHUT on the return path within " + unit.toSeconds(timeout) + " s");
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
        if (error != null) {
            throw new IOException("return path error: " + error);
        }
        if (shutStatus != 0) {
            throw new IOException("the destination failed to load the stream (SHUT " + shutStatus + ")");
        }
    }
}
