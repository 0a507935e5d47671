package org.savevm.migration.incoming;

import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.ScatteringByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.savevm.api.DiscardRange;
import org.savevm.api.IncomingCommands;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SaveVm;
import org.savevm.api.machine.MultifdReceiver;
import org.savevm.api.machine.PageFaultHandler;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.migration.GuestControl;
import org.savevm.api.migration.Incoming;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.MigrationUri;
import org.savevm.api.settings.MigrationParameters;
import org.savevm.migration.multifd.MultifdRecvChannels;
import org.savevm.migration.postcopy.BlocktimeTracker;
import org.savevm.migration.postcopy.PostcopyIncoming;
import org.savevm.migration.returnpath.ReturnPathWriter;
import org.savevm.migration.state.MigrationStateMachine;
import org.savevm.migration.state.MigrationTransitions;
import org.savevm.migration.transport.Connection;
import org.savevm.migration.transport.Listener;
import org.savevm.migration.transport.Transports;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.Printable;

/**
 * The destination of one migration (QEMU's -incoming and process_incoming_migration_co): waits for the
 * stream, keeps the guest stopped while it loads, and starts the guest only when everything loaded and
 * {@code autostart} is set (QEMU without -S). A failed load leaves the guest stopped.
 */
public final class IncomingMigration implements Incoming {
    private static final System.Logger LOG = System.getLogger(IncomingMigration.class.getName());
    private static final int STREAM_BUFFER = 1024 * 1024;

    private final SaveVm saveVm;
    private final Listener listener;
    /** The multifd channels must connect this soon after the main stream. */
    private static final long MULTIFD_ACCEPT_MILLIS = 30_000;
    private final MigrationSettings settings;
    /** This migration as the handlers see it: the multifd channels go in, the ram handler's postcopy destination comes out. */
    private final MigrationContext context;
    private volatile MultifdRecvChannels multifd;
    private volatile Function<String, Optional<RamBlock>> ramBlocks = name -> Optional.empty();
    private final GuestControl guest;
    private final boolean autostart;
    private final MigrationListener events;
    private final Object lock = new Object();

    /** QEMU's mis->state: moves only along the destination's transition table. */
    private final MigrationStateMachine state = new MigrationStateMachine(MigrationTransitions.INCOMING, lock);
    private volatile Connection connection;
    private volatile MigrationInput in;
    private volatile boolean cancelRequested;
    private volatile String error;
    private volatile long acceptNanos;
    private volatile long totalTime = -1;
    private volatile long finishedEpochMillis;
    private Thread thread;
    /** 0, or how long the destination waits for a source to connect and for each next byte from it. */
    private volatile long idleTimeoutMillis;
    /** Why the watchdog gave up, reported instead of the broken I/O it caused. */
    private volatile String timedOut;
    private Thread watchdog;
    /** Bytes read from the main stream's channel so far (the watchdog's measure of a live source). */
    private final java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();

    public IncomingMigration(SaveVm saveVm, Listener listener, MigrationSettings settings, GuestControl guest,
            boolean autostart, MigrationListener events) {
        this.saveVm = saveVm;
        this.listener = listener;
        this.settings = settings;
        this.context = new MigrationContext(settings);
        this.guest = guest;
        this.autostart = autostart;
        this.events = events;
        this.blocktime = settings.capability("postcopy-blocktime") ? new BlocktimeTracker(System::nanoTime) : null;
    }

    public void start() {
        guest.stop();
        if (!state.compareAndSet(MigrationStatus.NONE, MigrationStatus.SETUP)) {
            throw new IllegalStateException("this incoming migration was started already");
        }
        stateChanged(MigrationStatus.SETUP);
        thread = new Thread(this::run, "incoming_migration");
        thread.setDaemon(true);
        thread.start();
        if (idleTimeoutMillis > 0) {
            watchdog = new Thread(this::watch, "incoming_timeout");
            watchdog.setDaemon(true);
            watchdog.start();
        }
    }

    /**
     * Gives up after {@code millis} without a source connecting, or without a byte from a connected one (on the main
     * stream or any multifd channel); 0 waits forever, as QEMU does. Set before {@link #start()}.
     */
    public void setIdleTimeout(long millis) {
        this.idleTimeoutMillis = millis;
    }

    /** The idle watchdog: polls the bytes received, breaks the connection (or the wait for one) when they stall. */
    private void watch() {
        long limit = idleTimeoutMillis;
        long lastBytes = -1;
        long lastChange = System.nanoTime();
        try {
            while (!state.awaitFinished(Math.max(10, Math.min(limit / 4, 1000)), TimeUnit.MILLISECONDS)) {
                MigrationStatus st = state.status();
                if (st == MigrationStatus.POSTCOPY_ACTIVE) {
                    return; // the guest runs here now: a quiet source is no reason to fail it
                }
                MigrationInput i = in;
                MultifdRecvChannels mf = multifd;
                long bytes = received.get() + (mf == null ? 0 : mf.bytes());
                long now = System.nanoTime();
                if (bytes != lastBytes) {
                    lastBytes = bytes;
                    lastChange = now;
                    continue;
                }
                if (TimeUnit.NANOSECONDS.toMillis(now - lastChange) < limit) {
                    continue;
                }
                timedOut = connection == null && i == null
                        ? "no source connected to " + listener.address() + " within " + seconds(limit)
                        : "no data from the source for " + seconds(limit) + " (after " + bytes + " bytes)";
                LOG.log(System.Logger.Level.DEBUG, "incoming migration: {0}", timedOut);
                try {
                    listener.close();
                } catch (IOException ignored) {
                    // closing only serves to wake accept()
                }
                Connection c = connection;
                if (c != null) {
                    c.abort();
                }
                MultifdRecvChannels m = multifd;
                if (m != null) {
                    m.close();
                }
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }

    @Override
    public MigrationStatus status() {
        return state.status();
    }

    /** The address in use, e.g. with the port picked for {@code tcp:HOST:0}. */
    @Override
    public String address() {
        return listener.address().toString();
    }

    /** Wall-clock time (ms since the epoch) at which the load ended, 0 before. */
    @Override
    public long finishedEpochMillis() {
        return finishedEpochMillis;
    }

    @Override
    public String error() {
        return error;
    }

    @Override
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        return state.awaitFinished(timeout, unit);
    }

    @Override
    public void cancel() {
        cancelRequested = true;
        synchronized (lock) {
            Listener l = recoverListener;
            if (l != null) {
                try {
                    l.close();
                } catch (IOException ignored) {
                    // only to wake its accept
                }
            }
            lock.notifyAll();
        }
        try {
            listener.close();
        } catch (IOException ignored) {
            // Closing the listener only serves to wake accept().
        }
        Connection c = connection;
        if (c != null) {
            c.abort();
        }
    }

    /**
     * What the load received (issue 13): the core's report, published when the stream ended well; empty while
     * loading and after a failed load.
     */
    public java.util.Optional<org.savevm.api.LoadReport> loadReport() {
        return context.find(org.savevm.api.LoadReport.class);
    }

    @Override
    public MigrationInfo info() {
        MigrationInput i = in;
        long bytes = priorBytes + (i == null ? 0 : i.position());
        long total = totalTime >= 0 ? totalTime
                : acceptNanos == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acceptNanos);
        MigrationStatus st = state.status();
        BlocktimeTracker bt = blocktime;
        return new MigrationInfo(st, total, 0, 0, 0, null, bytes, bytes, 0, 0, 0, false, false, false,
                st == MigrationStatus.FAILED ? error : null, 0, multifd == null ? 0 : multifd.bytes(), 0,
                bt == null ? null : bt.snapshot());
    }

    /** Moves from the current state to {@code s} (refused if the table has no such move) and tells the listener. */
    private void enter(MigrationStatus s) {
        state.moveTo(s);
        stateChanged(s);
    }

    private void stateChanged(MigrationStatus s) {
        try {
            events.stateChanged(s, info());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "migration listener failed", e);
        }
    }

    /** Set by migrate-recover while postcopy-paused: where the source's new channel comes in. */
    private Listener recoverListener;
    /** Bytes read from channels that broke (postcopy recovery). */
    private volatile long priorBytes;
    /** Host pages the guest faulted on and still waits for: asked again after a recovery. */
    private final java.util.Set<String> pendingFaults = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The return path, once the source opened it (OPEN_RETURN_PATH). */
    private volatile ReturnPathWriter returnPath;
    private volatile PostcopyIncoming postcopy = PostcopyIncoming.NONE;
    /** With capability postcopy-blocktime: how long faulting guest accesses waited. */
    private final BlocktimeTracker blocktime;

    /** Guest RAM by block idstr, where the multifd channels put the pages they receive. */
    public void setRamBlocks(Function<String, Optional<RamBlock>> ramBlocks) {
        this.ramBlocks = ramBlocks;
    }

    /** How postcopy commands reach guest RAM (the ram handler's destination side). */
    public void setPostcopy(PostcopyIncoming postcopy) {
        this.postcopy = postcopy;
    }

    /** REQ_PAGES_ID for the host page at {@code offset}; while paused the request waits for the recovery. */
    private void requestPage(String block, long offset) {
        ReturnPathWriter w = returnPath;
        MigrationStatus st = state.status();
        if (w == null || st == MigrationStatus.POSTCOPY_PAUSED || st == MigrationStatus.POSTCOPY_RECOVER) {
            return; // postcopy-paused: asked again after POSTCOPY_RESUME
        }
        try {
            // a fault asks for the whole host page (postcopy_request_page)
            int size = ramBlocks.apply(block).map(RamBlock::pageSize).orElse(RamBlock.TARGET_PAGE_SIZE);
            w.requestPages(block, offset, size);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "page request for " + block + " failed (the channel broke?)", e);
        }
    }

    /**
     * postcopy_pause_incoming: the channel broke while the guest runs here. Nothing is lost (every placed page
     * stays); the guest goes on, waiting only on pages still missing, until migrate-recover gives a listener
     * and the source reconnects. Returns the new channel's input (state postcopy-recover).
     */
    private MigrationInput pauseUntilRecovered(IOException cause) throws IOException {
        if (cancelRequested) {
            throw cause;
        }
        LOG.log(System.Logger.Level.DEBUG, "incoming postcopy channel broke, pausing", cause);
        Connection old = connection;
        connection = null;
        if (old != null) {
            old.abort();
        }
        returnPath = null;
        MigrationInput i = in;
        priorBytes += i == null ? 0 : i.position();
        enter(MigrationStatus.POSTCOPY_PAUSED);
        Listener l;
        synchronized (lock) {
            while ((l = recoverListener) == null && !cancelRequested) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted in postcopy-paused", e);
                }
            }
        }
        if (cancelRequested) {
            throw new IOException("incoming migration cancelled in postcopy-paused");
        }
        Connection c;
        try {
            // the source connects when told to (migrate -r): no deadline but a cancel
            c = l.acceptAll(1, Long.MAX_VALUE / 2).get(0);
        } finally {
            synchronized (lock) {
                recoverListener = null;
            }
            try {
                l.close();
            } catch (IOException ignored) {
                // one connection is all a recovery takes
            }
        }
        connection = c;
        MigrationInput next = new MigrationInput(c.input(), STREAM_BUFFER);
        in = next;
        // migration_incoming_process: the return path goes back on the new channel
        returnPath = new ReturnPathWriter(c.output());
        enter(MigrationStatus.POSTCOPY_RECOVER);
        return next;
    }

    /**
     * migrate_send_rp_recv_bitmap: RECV_BITMAP with what this side holds of {@code block} (one bit per target
     * page, set when the page is here; a huge page counts only whole), for the source to resend the rest.
     */
    private void sendReceivedBitmap(String block) throws IOException {
        if (state.status() != MigrationStatus.POSTCOPY_RECOVER) {
            throw new IOException("RECV_BITMAP for '" + Printable.escape(block) + "' outside postcopy-recover (state "
                    + state.status().qemuName() + "): MSG_RP_RECV_BITMAP only used for recovery");
        }
        RamBlock b = ramBlocks.apply(block).orElseThrow(() -> new IOException("loadvm_handle_recv_bitmap: block '"
                + Printable.escape(block) + "' not found"));
        long pages = b.pages();
        byte[] le = new byte[(int) ((pages + 63) / 64 * 8)];
        for (long p = 0; p < pages; p++) {
            if (!b.pageMissing(p * RamBlock.TARGET_PAGE_SIZE)) {
                le[(int) (p >>> 3)] |= (byte) (1 << (p & 7));
            }
        }
        returnPath.recvBitmap(block, le);
    }

    /**
     * QEMU's migrate-recover URI: a postcopy-paused destination listens for the source's migrate -r. Returns
     * the address listened on.
     */
    @Override
    public String recover(String uri) throws IOException {
        MigrationUri parsed = MigrationUri.parse(uri);
        if (parsed.scheme() != MigrationUri.Scheme.TCP && parsed.scheme() != MigrationUri.Scheme.UNIX) {
            throw new IllegalArgumentException("postcopy recovery needs a two-way channel: use tcp: or unix:, not "
                    + uri);
        }
        synchronized (lock) {
            if (state.status() != MigrationStatus.POSTCOPY_PAUSED) {
                throw new IllegalStateException("Migrate recover can only be run when postcopy is paused.");
            }
            if (recoverListener != null) {
                throw new IllegalStateException("Migrate recovery is triggered already");
            }
            Listener l = Transports.listen(parsed);
            recoverListener = l;
            lock.notifyAll();
            return l.address().toString();
        }
    }

    private void run() {
        try {
            int channels = settings.capability("multifd") ? (int) settings.parameter("multifd-channels", 2) : 0;
            List<Connection> all = listener.acceptAll(1 + channels, MULTIFD_ACCEPT_MILLIS);
            Connection c = all.get(0);
            connection = c;
            if (channels > 0) {
                List<ReadableByteChannel> inputs = new ArrayList<>();
                for (Connection x : all.subList(1, all.size())) {
                    inputs.add(x.input());
                }
                MultifdRecvChannels mf = new MultifdRecvChannels(inputs, ramBlocks, e -> {
                    // a failed channel must not leave the loader blocked on the main stream
                    Connection m = connection;
                    if (m != null) {
                        m.abort();
                    }
                }, MigrationParameters.multifdZlib(settings));
                multifd = mf;
                context.publish(MultifdReceiver.class, mf);
                mf.start();
            }
            if (cancelRequested) {
                throw new IOException("incoming migration cancelled");
            }
            acceptNanos = System.nanoTime();
            ReadableByteChannel raw = c.input();
            // scattering when the connection's channel is: a disk chunk is then read straight into its buffer
            in = new MigrationInput(new ScatteringByteChannel() {
                @Override
                public int read(java.nio.ByteBuffer dst) throws IOException {
                    return counted(raw.read(dst));
                }

                @Override
                public long read(java.nio.ByteBuffer[] dsts, int offset, int length) throws IOException {
                    if (raw instanceof ScatteringByteChannel s) {
                        return counted(s.read(dsts, offset, length));
                    }
                    for (int i = offset; i < offset + length; i++) {
                        if (dsts[i].hasRemaining()) {
                            return counted(raw.read(dsts[i]));
                        }
                    }
                    return 0;
                }

                @Override
                public long read(java.nio.ByteBuffer[] dsts) throws IOException {
                    return read(dsts, 0, dsts.length);
                }

                private <N extends Number> N counted(N n) {
                    if (n.longValue() > 0) {
                        received.addAndGet(n.longValue());
                    }
                    return n;
                }

                @Override
                public boolean isOpen() {
                    return raw.isOpen();
                }

                @Override
                public void close() throws IOException {
                    raw.close();
                }
            }, STREAM_BUFFER);
            enter(MigrationStatus.ACTIVE);
            saveVm.load(in, context, new IncomingCommands() {
                @Override
                public void openReturnPath() throws IOException {
                    returnPath = new ReturnPathWriter(c.output());
                }

                @Override
                public void ping(int value) throws IOException {
                    ReturnPathWriter w = returnPath;
                    if (w == null) {
                        throw new IOException("PING " + value + " before OPEN_RETURN_PATH");
                    }
                    w.pong(value);
                }

                @Override
                public void postcopyAdvise(boolean ramPostcopy, long remoteSummary, long targetPageSize)
                        throws IOException {
                    if (!ramPostcopy) {
                        return;
                    }
                    // loadvm_postcopy_handle_advise: host pages must match, or a host page could be placed in parts
                    long local = postcopy.ramPageSizeSummary();
                    if (remoteSummary != local) {
                        throw new IOException(String.format("Postcopy needs matching RAM page sizes (s=%x d=%x)",
                                remoteSummary, local));
                    }
                }

                @Override
                public void postcopyRamDiscard(String block, List<DiscardRange> ranges) throws IOException {
                    for (DiscardRange r : ranges) {
                        postcopy.discard(context, block, r.start(), r.length());
                    }
                }

                @Override
                public void postcopyListen() throws IOException {
                    ReturnPathWriter w = returnPath;
                    if (w == null) {
                        throw new IOException("POSTCOPY_LISTEN without a return path: page requests could not be sent");
                    }
                    BlocktimeTracker bt = blocktime;
                    postcopy.listen(context, new PageFaultHandler() {
                        @Override
                        public void pageFault(String block, long offset) {
                            if (bt != null) {
                                bt.faultBegin();
                            }
                            pendingFaults.add(offset + "@" + block);
                            requestPage(block, offset);
                        }

                        @Override
                        public void pageArrived(String block, long offset, long waitedNanos) {
                            pendingFaults.remove(offset + "@" + block);
                            if (bt != null) {
                                bt.faultEnd(waitedNanos);
                            }
                        }
                    });
                }

                @Override
                public void postcopyRun() throws IOException {
                    // The stream is untrusted: a second RUN, or a RUN without postcopy, is an error in it.
                    if (state.status() != MigrationStatus.ACTIVE) {
                        throw new IOException("POSTCOPY_RUN in state " + state.status().qemuName()
                                + " at offset " + in.position());
                    }
                    // QEMU's loadvm_postcopy_handle_run: the guest runs on the destination from here.
                    if (autostart) {
                        guest.start();
                    }
                    enter(MigrationStatus.POSTCOPY_ACTIVE);
                }

                @Override
                public MigrationInput postcopyPaused(IOException cause) throws IOException {
                    return pauseUntilRecovered(cause);
                }

                @Override
                public void receivedBitmapRequest(String block) throws IOException {
                    sendReceivedBitmap(block);
                }

                @Override
                public void postcopyResume() throws IOException {
                    // loadvm_postcopy_handle_resume
                    if (state.status() != MigrationStatus.POSTCOPY_RECOVER) {
                        throw new IOException("loadvm_postcopy_handle_resume: illegal resume received (state "
                                + state.status().qemuName() + ")");
                    }
                    enter(MigrationStatus.POSTCOPY_ACTIVE);
                    returnPath.resumeAck();
                    // migrate_send_rp_req_pages_pending: what the guest faulted on meanwhile is asked again
                    for (String pending : pendingFaults) {
                        int at = pending.indexOf('@');
                        requestPage(pending.substring(at + 1), Long.parseLong(pending.substring(0, at)));
                    }
                }
            });
            postcopy.finish();
            ReturnPathWriter w = returnPath;
            if (w != null) {
                w.shut(false);
            }
            // after a postcopy recovery the channel in use is the last one, not the first
            Connection last = connection;
            connection = null;
            try {
                last.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "closing the incoming channel failed", e);
            }
            totalTime = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acceptNanos);
            finishedEpochMillis = System.currentTimeMillis();
            if (autostart && state.status() != MigrationStatus.POSTCOPY_ACTIVE) {
                guest.start();
            }
            enter(MigrationStatus.COMPLETED);
        } catch (IOException | RuntimeException e) {
            postcopy.finish();
            ReturnPathWriter w = returnPath;
            if (w != null && !cancelRequested) {
                try {
                    w.shut(true);
                } catch (IOException ignored) {
                    // The source may be gone already; it fails on its own then.
                }
            }
            MultifdRecvChannels mf = multifd;
            IOException channelFailure = mf == null ? null : mf.failure();
            // a failed channel breaks the main stream on purpose: its own error is the one to report
            Exception cause = channelFailure != null && !cancelRequested ? channelFailure : e;
            error = cancelRequested ? "incoming migration cancelled"
                    : timedOut != null ? "timeout: " + timedOut
                    // any error kind may quote stream strings (block names, idstrs): shown inert
                    : Printable.escape(cause.getMessage() == null ? cause.toString() : cause.getMessage());
            totalTime = acceptNanos == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acceptNanos);
            finishedEpochMillis = System.currentTimeMillis();
            LOG.log(System.Logger.Level.DEBUG, "incoming migration failed", e);
            enter(MigrationStatus.FAILED);
        } finally {
            Connection c = connection;
            if (c != null) {
                c.abort();
            }
            MultifdRecvChannels mf = multifd;
            if (mf != null) {
                mf.close();
            }
            try {
                listener.close();
            } catch (IOException ignored) {
                // Nothing left to wake.
            }
        }
    }
}
