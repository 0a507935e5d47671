package org.savevm.migration.returnpath;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.TimeUnit;

import org.savevm.api.machine.RamPostcopySource;

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
    /** Postcopy recovery: where RECV_BITMAP's bitmaps go (the ram handler's source). */
    private volatile RamPostcopySource recovery;
    private int bitmapsReceived;
    private boolean resumeAcked;
    /** Told when the return path breaks (postcopy: the source then pauses). */
    private volatile Runnable onError = () -> {
    };
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

    /** Recovery handshake on this (new) return path: RECV_BITMAP answers reload {@code ram}'s dirty bitmap. */
    public void acceptRecovery(RamPostcopySource ram) {
        this.recovery = ram;
    }

    public void onError(Runnable r) {
        this.onError = r;
    }

    public void start() {
        thread.start();
    }

    /**
     * Waits up to {@code millis} for the return path to end (SHUT or an error) and returns SHUT's value,
     * or null when it ended without one or is still open.
     */
    public Integer awaitEnd(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        synchronized (lock) {
            while (shutStatus == null && error == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return shutStatus;
        }
    }

    /** Waits until {@code count} RECV_BITMAP answers were reloaded; throws when the return path broke. */
    public void awaitBitmaps(int count, long timeout, TimeUnit unit) throws IOException, InterruptedException {
        awaitCondition(() -> bitmapsReceived >= count, "the received bitmaps", timeout, unit);
    }

    /** Waits for RESUME_ACK; throws when the return path broke first. */
    public void awaitResumeAck(long timeout, TimeUnit unit) throws IOException, InterruptedException {
        awaitCondition(() -> resumeAcked, "RESUME_ACK", timeout, unit);
    }

    private void awaitCondition(java.util.function.BooleanSupplier done, String what, long timeout, TimeUnit unit)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (lock) {
            while (!done.getAsBoolean()) {
                if (error != null) {
                    throw new IOException("return path error: " + error);
                }
                if (shutStatus != null) {
                    throw new IOException("SHUT " + shutStatus + " while waiting for " + what);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("no " + what + " on the return path within " + unit.toSeconds(timeout) + " s");
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
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
            onError.run();
        } catch (RuntimeException | Error e) {
            // a bug: the source must not wait for a SHUT that will never be read, nor hear of a bad message
            finish(null, "return path reader failed: " + e);
            onError.run();
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
                    case ReturnPathMessage.RECV_BITMAP -> receivedBitmap(len, body);
                    case ReturnPathMessage.RESUME_ACK -> {
                        expectLength(type, len, 4);
                        int value = body.getInt();
                        if (value != ReturnPathMessage.RESUME_ACK_VALUE || recovery == null) {
                            throw new IOException("migrate_handle_rp_resume_ack: illegal resume_ack value " + value
                                    + (recovery == null ? " (no recovery in progress)" : ""));
                        }
                        synchronized (lock) {
                            resumeAcked = true;
                            lock.notifyAll();
                        }
                    }
                    default -> throw new IOException("unexpected return path message " + ReturnPathMessage.name(type)
                            + " in precopy");
                }
            }
        }
    }

    /**
     * RECV_BITMAP (ram_dirty_bitmap_reload): the counted block name in the message, then outside it be64
     * size, the bitmap, be64 end mark; the size must be the block's, so nothing unbounded is read.
     */
    private void receivedBitmap(int len, ByteBuffer body) throws IOException {
        RamPostcopySource ram = recovery;
        if (ram == null) {
            throw new IOException("unexpected return path message RECV_BITMAP outside postcopy recovery");
        }
        int n = len < 1 ? -1 : body.get() & 0xff;
        if (len != 1 + n) {
            throw new IOException("return path message RECV_BITMAP has length " + len + ", expected " + (1 + n));
        }
        byte[] name = new byte[n];
        body.get(name);
        String block = new String(name, java.nio.charset.StandardCharsets.UTF_8);
        long expected = ram.receivedBitmapBytes(block);
        if (expected < 0) {
            throw new IOException("RECV_BITMAP for unknown RAM block '" + org.savevm.stream.Printable.escape(block) + "'");
        }
        ByteBuffer size = ByteBuffer.allocate(8);
        readFully(size);
        long got = size.getLong();
        if (got != expected) {
            throw new IOException("ram_dirty_bitmap_reload: ramblock '" + block + "' bitmap size mismatch (0x"
                    + Long.toHexString(got) + " != 0x" + Long.toHexString(expected) + ")");
        }
        ByteBuffer bitmap = ByteBuffer.allocate((int) expected);
        readFully(bitmap);
        ByteBuffer end = ByteBuffer.allocate(8);
        readFully(end);
        long mark = end.getLong();
        if (mark != ReturnPathMessage.RECV_BITMAP_ENDING) {
            throw new IOException("ram_dirty_bitmap_reload: ramblock '" + block + "' end mark incorrect: 0x"
                    + Long.toHexString(mark));
        }
        ram.reloadDirtyBitmap(block, bitmap.array());
        synchronized (lock) {
            bitmapsReceived++;
            lock.notifyAll();
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
