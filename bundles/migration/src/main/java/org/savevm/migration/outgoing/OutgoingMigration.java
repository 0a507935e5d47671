package org.savevm.migration.outgoing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.OutgoingCommands;
import org.savevm.api.PendingBytes;
import org.savevm.api.SaveVm;
import org.savevm.api.machine.MultifdSender;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.block.BlockMigrationStats;
import org.savevm.api.machine.RamMigrationMonitor;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.api.migration.GuestControl;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.MigrationUri;
import org.savevm.api.migration.Outgoing;
import org.savevm.api.settings.MigrationParameters;
import org.savevm.migration.multifd.MultifdSendChannels;
import org.savevm.migration.postcopy.PostcopySwitch;
import org.savevm.migration.returnpath.ReturnPathReader;
import org.savevm.migration.state.MigrationStateMachine;
import org.savevm.migration.state.MigrationTransitions;
import org.savevm.migration.transport.Connection;
import org.savevm.migration.transport.Transports;
import org.savevm.stream.MigrationOutput;

/**
 * One outgoing precopy migration on its own thread (QEMU's migration_thread): setup, iterate while
 * the pending bytes do not fit in downtime-limit at the measured bandwidth, stop the guest, complete.
 * A failure or cancel at any point leaves the guest running with its RAM untouched.
 */
public final class OutgoingMigration implements Outgoing {
    private static final System.Logger LOG = System.getLogger(OutgoingMigration.class.getName());
    private static final int STREAM_BUFFER = 256 * 1024;

    /** Opens the connection inside the migration thread, so a connect failure is a failed migration. */
    public interface ConnectionOpener {
        Connection open() throws IOException;
    }

    /** How long the source waits, guest stopped, for the destination's SHUT on the return path. */
    private static final long RETURN_PATH_SHUT_SECONDS = 120;

    /** How long a broken postcopy channel waits for the destination's SHUT telling a failed load apart. */
    private static final long SIBLING_ERROR_WAIT_MILLIS = 1000;

    /** How long the recovery handshake waits for the destination's bitmaps and RESUME_ACK. */
    private static final long RECOVERY_SECONDS = 60;

    /** How long the end of a migration waits for a listener still printing its events. */
    private static final long EVENT_DRAIN_SECONDS = 10;

    private final SaveVm saveVm;
    private final ConnectionOpener opener;
    private final MigrationSettings settings;
    /** This migration as the handlers see it: the multifd channels go in, the ram stats and postcopy source come out. */
    private final MigrationContext context;
    private volatile MultifdSendChannels multifd;
    private final LongSupplier maxBandwidth;
    private final LongSupplier downtimeLimit;
    private final GuestControl guest;
    private final MigrationListener listener;
    /**
     * Listener calls go out on their own thread, in order: a listener printing to a terminal or building
     * JSON (the first time: class loading, ~15 ms) must not hold up the migration thread.
     */
    private final ExecutorService events = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "migration-events");
        t.setDaemon(true);
        return t;
    });
    private final Object lock = new Object();
    private final SliceRateLimiter limiter;
    private final AutoConverge autoConverge;

    /** QEMU's s->state: moves only along the source's transition table, compare-and-set. */
    private final MigrationStateMachine state = new MigrationStateMachine(MigrationTransitions.OUTGOING, lock);
    private volatile boolean startPostcopy;
    private volatile boolean inPostcopy;
    /** A page request arrived since the migration thread last looked: it must not sleep out the slice. */
    private volatile boolean urgent;
    private volatile ReturnPathReader rpReader;
    /** Page requests counted by the return paths of channels that broke. */
    private volatile long pageRequestsBefore;
    /** Bytes written to main-stream channels that broke (postcopy recovery): positions go on from here. */
    private volatile long priorStreams;
    /** Set by migrate -r while postcopy-paused: where the new channel comes from. */
    private ConnectionOpener resumeOpener;
    private volatile int pauses;
    private volatile String pausedBecause;
    private volatile boolean cancelRequested;
    private volatile Connection connection;
    private volatile MigrationOutput out;
    private volatile String error;
    private Thread thread;

    private final long startNanos;
    private volatile long setupTime;
    private volatile long totalTime = -1;
    private volatile long downtime;
    private volatile long downtimeStartPosition = -1;
    /** Stream position right after the switch to postcopy (the PACKAGED blob sent), -1 before. */
    private volatile long postcopyStartPosition = -1;
    /** QEMU's ram_pagesize_summary of the source's RAM blocks, sent in POSTCOPY_ADVISE. */
    private volatile LongSupplier ramPageSizeSummary = () -> RamBlock.TARGET_PAGE_SIZE;
    private volatile long endPosition = -1;
    private volatile long expectedDowntime;
    private volatile double mbps;
    private volatile long thresholdBytes;
    private long iterationStartNanos;
    private long iterationInitialBytes;
    private long lastPeriodKey = Long.MIN_VALUE;
    private long lastSyncCount;

    public OutgoingMigration(SaveVm saveVm, ConnectionOpener opener, MigrationSettings settings,
            LongSupplier maxBandwidth, LongSupplier downtimeLimit, GuestControl guest, MigrationListener listener) {
        this.saveVm = saveVm;
        this.opener = opener;
        this.settings = settings;
        this.context = new MigrationContext(settings);
        this.maxBandwidth = maxBandwidth;
        this.downtimeLimit = downtimeLimit;
        this.guest = guest;
        this.listener = listener;
        this.limiter = new SliceRateLimiter(maxBandwidth.getAsLong());
        this.autoConverge = new AutoConverge(settings.parameter("throttle-trigger-threshold", 50),
                settings.parameter("cpu-throttle-initial", 20), settings.parameter("cpu-throttle-increment", 10),
                settings.parameter("cpu-throttle-tailslow", 0) != 0, settings.parameter("max-cpu-throttle", 99));
        this.startNanos = System.nanoTime();
    }

    /** Where the page sizes of the RAM blocks come from (default: target-size pages only). */
    public void setRamPageSizeSummary(LongSupplier summary) {
        this.ramPageSizeSummary = summary;
    }

    /** Starts the migration thread. */
    public void start() {
        if (!state.compareAndSet(MigrationStatus.NONE, MigrationStatus.SETUP)) {
            throw new IllegalStateException("this migration was started already");
        }
        LOG.log(System.Logger.Level.DEBUG, "migration status: setup");
        thread = new Thread(this::run, "live_migration");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public MigrationStatus status() {
        return state.status();
    }

    public MigrationSettings settings() {
        return settings;
    }

    /** Waits for the end; false when it did not end in time. */
    @Override
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        if (!state.awaitFinished(timeout, unit)) {
            return false;
        }
        if (thread != null) {
            thread.join(Math.max(1, unit.toMillis(timeout)));
        }
        return true;
    }

    /** QEMU's migrate_fd_cancel: breaks the connection; the thread then ends as cancelled. */
    @Override
    public void cancel() {
        synchronized (lock) {
            MigrationStatus now = state.status();
            if (!now.running() || now == MigrationStatus.CANCELLING) {
                return;
            }
            cancelRequested = true;
            state.compareAndSet(now, MigrationStatus.CANCELLING);
            lock.notifyAll();
        }
        fire(MigrationStatus.CANCELLING);
        Connection c = connection;
        if (c != null) {
            c.abort();
        }
        MultifdSendChannels mf = multifd;
        if (mf != null) {
            mf.close();
        }
    }

    @Override
    public MigrationInfo info() {
        MigrationStatus st = state.status();
        long now = System.nanoTime();
        long total = totalTime >= 0 ? totalTime : TimeUnit.NANOSECONDS.toMillis(now - startNanos);
        long pos = endPosition >= 0 ? endPosition : streamPosition();
        long precopy = downtimeStartPosition >= 0 ? downtimeStartPosition : pos;
        long downBytes = downtimeStartPosition >= 0 ? pos - downtimeStartPosition : 0;
        RamMigrationStats ram = ramStats().orElse(null);
        long postcopyBytes = postcopyStartPosition >= 0 ? pos - postcopyStartPosition : 0;
        if (postcopyStartPosition >= 0) {
            // QEMU counts the switch's own bytes as downtime bytes and what follows as postcopy bytes
            downBytes = postcopyStartPosition - downtimeStartPosition;
        }
        return new MigrationInfo(st, total, setupTime, downtime, expectedDowntime, ram, pos, precopy, downBytes,
                mbps, guest.throttlePercent(), settings.capability("xbzrle"), settings.capability("compress"),
                settings.capability("auto-converge"), st == MigrationStatus.FAILED ? error : null, pageRequestsBefore + (rpReader == null ? 0 : rpReader.pageRequests()),
                multifd == null ? 0 : multifd.bytes(), postcopyBytes, null,
                settings.capability("block") ? context.find(BlockMigrationStats.class).orElse(null) : null);
    }

    /**
     * QEMU's multifd_save_setup: the channels connect after the main stream (a QEMU 7.2 destination tells
     * them apart by the order they arrive in), each sends its initial packet from its own thread.
     */
    private void openMultifd(int count) throws IOException {
        List<Connection> opened = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                opened.add(opener.open());
            }
            List<java.nio.channels.WritableByteChannel> outs = new ArrayList<>();
            for (Connection c : opened) {
                outs.add(c.output());
            }
            multifd = new MultifdSendChannels(outs,
                    MigrationParameters.multifdZlib(settings) ? (int) settings.parameter("multifd-zlib-level", 1) : -1);
            context.publish(MultifdSender.class, multifd);
        } catch (IOException | RuntimeException e) {
            for (Connection c : opened) {
                c.abort();
            }
            throw new IOException("multifd: " + e.getMessage(), e);
        }
    }

    /** Moves on only if no cancel came in between (QEMU's migrate_set_state compare-and-set). */
    private boolean advance(MigrationStatus from, MigrationStatus to) {
        if (!state.compareAndSet(from, to)) {
            return false;
        }
        LOG.log(System.Logger.Level.DEBUG, "migration status: {0}", to.qemuName());
        return true;
    }

    /** Tells the listener about the transition to {@code to}; the info may already be newer. */
    private void fire(MigrationStatus to) {
        MigrationInfo i = info();
        deliver(() -> listener.stateChanged(to, i));
    }

    private void deliver(Runnable call) {
        Runnable guarded = () -> {
            try {
                call.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "migration listener failed", e);
            }
        };
        try {
            events.execute(guarded);
        } catch (RejectedExecutionException e) {
            guarded.run(); // after the end (a late cancel): the caller's thread delivers it
        }
    }

    /** Delivers what is queued before the migration thread ends, so {@link #await} returns after it. */
    private void drainEvents() {
        events.shutdown();
        try {
            if (!events.awaitTermination(EVENT_DRAIN_SECONDS, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "migration listener still busy after {0} s", EVENT_DRAIN_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        fire(MigrationStatus.SETUP);
        SaveVm.Outgoing outgoing = null;
        boolean stoppedGuest = false;
        boolean guestWasRunning = false;
        try {
            long setupStart = System.nanoTime();
            connection = opener.open();
            if (cancelRequested) {
                throw new IOException("cancelled");
            }
            if (settings.capability("multifd")) {
                openMultifd((int) settings.parameter("multifd-channels", 2));
            }
            // pages go out by reference in gathering writes of up to half a megabyte (MigrationOutput)
            MigrationOutput o = new MigrationOutput(connection.output(), STREAM_BUFFER);
            // max-bandwidth counts the multifd channels' bytes as well, as QEMU's rate limit does
            o.setRateLimiter(total -> limiter.exceeded(total + multifdBytes()));
            out = o;
            limiter.newSlice(0);
            boolean postcopy = settings.capability("postcopy-ram");
            // As in QEMU, postcopy always opens the return path: page requests come back on it.
            boolean returnPath = postcopy || settings.capability("return-path");
            ReturnPathReader rp = null;
            if (returnPath) {
                rp = new ReturnPathReader(connection.input());
                Connection first = connection;
                // in postcopy a broken return path breaks the channel too: the migration thread then pauses
                rp.onError(() -> {
                    if (inPostcopy) {
                        first.abort();
                    }
                });
                rpReader = rp;
                rp.start();
            }
            outgoing = saveVm.beginSave(o, context, commands -> {
                if (returnPath) {
                    commands.openReturnPath();
                    commands.ping(1);
                }
                if (postcopy) {
                    commands.postcopyAdvise(ramPageSizeSummary.getAsLong(), RamBlock.TARGET_PAGE_SIZE);
                }
            });
            o.flush();
            setupTime = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - setupStart);
            if (!advance(MigrationStatus.SETUP, MigrationStatus.ACTIVE)) {
                throw new IOException("cancelled");
            }
            fire(MigrationStatus.ACTIVE);
            iterationStartNanos = System.nanoTime();
            iterationInitialBytes = sent(o);
            long downtimeStart = 0;
            while (true) {
                if (cancelRequested) {
                    throw new IOException("cancelled");
                }
                PendingBytes pending = outgoing.pending(false);
                long threshold = thresholdBytes;
                if (!inPostcopy && pending.total() < threshold) {
                    pending = outgoing.pending(true);
                }
                // Unlike QEMU 7.2, never switch over in the middle of the first pass: what has never been
                // sent costs the same downtime whenever it goes, so it goes while the guest still runs.
                if ((pending.total() == 0 || pending.total() < threshold) && (inPostcopy || outgoing.firstPassDone())) {
                    break;
                }
                if (!inPostcopy && postcopy && startPostcopy && pending.mustPrecopy() <= threshold) {
                    downtimeStart = System.nanoTime();
                    downtimeStartPosition = o.position();
                    guestWasRunning = guest.running();
                    guest.stop();
                    stoppedGuest = true;
                    postcopyStart(o, outgoing, rp);
                    downtime = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downtimeStart);
                    break;
                }
                if (inPostcopy) {
                    outgoing.iteratePostcopy();
                } else {
                    outgoing.iterate();
                }
                o.checkError();
                if (o.rateLimitExceeded() || limiterActive() || inPostcopy) {
                    // Bytes held back here would not count against the slice where the socket sees them,
                    // and in postcopy a faulting destination waits for them.
                    o.flush();
                }
                rateLimitAndUpdate(o);
            }
            if (inPostcopy) {
                // iterations, completion and SHUT; a broken link pauses and resumes here (postcopy recovery)
                postcopyPhase(outgoing);
            } else {
                // Switchover (QEMU's migration_completion): stop the guest, send the rest unlimited.
                downtimeStart = System.nanoTime();
                downtimeStartPosition = o.position();
                guestWasRunning = guest.running();
                guest.stop();
                stoppedGuest = true;
                limiter.setBandwidth(0);
                outgoing.complete();
                o.flush();
                connection.finishOutput();
                if (rp != null) {
                    awaitShut(rp);
                }
            }
            Connection c = connection;
            connection = null;
            c.close();
            long end = System.nanoTime();
            endPosition = streamPosition();
            if (!inPostcopy) {
                downtime = TimeUnit.NANOSECONDS.toMillis(end - downtimeStart);
            }
            totalTime = TimeUnit.NANOSECONDS.toMillis(end - startNanos);
            long transferTime = totalTime - setupTime;
            if (transferTime > 0) {
                mbps = (endPosition + multifdBytes()) * 8.0 / transferTime / 1000;
            }
            guest.setThrottlePercent(0);
            if (!advance(inPostcopy ? MigrationStatus.POSTCOPY_ACTIVE : MigrationStatus.ACTIVE,
                    MigrationStatus.COMPLETED)) {
                throw new IOException("cancelled");
            }
            fire(MigrationStatus.COMPLETED);
        } catch (IOException | RuntimeException e) {
            // Once the destination runs the guest (postcopy), the source must not run it as well.
            fail(e, stoppedGuest && guestWasRunning && !inPostcopy);
        } finally {
            if (outgoing != null) {
                try {
                    outgoing.close();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "save cleanup failed", e);
                }
            }
            Connection c = connection;
            if (c != null) {
                c.abort();
            }
            MultifdSendChannels mf = multifd;
            if (mf != null) {
                mf.close();
            }
            drainEvents();
        }
    }

    /**
     * QEMU's postcopy_start, guest stopped: see {@link PostcopySwitch}. From here the destination runs the
     * guest and asks for missing pages on the return path.
     */
    private void postcopyStart(MigrationOutput o, SaveVm.Outgoing outgoing,
            ReturnPathReader rp) throws IOException {
        RamPostcopySource ram = context.find(RamPostcopySource.class)
                .orElseThrow(() -> new IOException("postcopy-ram: the ram handler offers no postcopy source"));
        limiter.setBandwidth(0);
        // Requests may come as soon as the destination runs; the ram handler queues them until iterate.
        rp.acceptPageRequests(urgentRequests(ram));
        PostcopySwitch.write(o, saveVm, outgoing, ram);
        o.flush();
        postcopyStartPosition = o.position();
        inPostcopy = true;
        limiter.setBandwidth(settings.parameter("max-postcopy-bandwidth", 0));
        limiter.newSlice(o.position());
        if (!advance(MigrationStatus.ACTIVE, MigrationStatus.POSTCOPY_ACTIVE)) {
            throw new IOException("cancelled");
        }
        fire(MigrationStatus.POSTCOPY_ACTIVE);
    }

    /** QEMU's await_return_path_close_on_source: success only once the destination says so. */
    private static void awaitShut(ReturnPathReader rp) throws IOException {
        try {
            rp.awaitShut(RETURN_PATH_SHUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the return path", e);
        }
    }

    /** Every byte of the main stream so far, over all the channels a recovery went through. */
    private long streamPosition() {
        MigrationOutput o = out;
        return priorStreams + (o == null ? 0 : o.position());
    }

    /**
     * The postcopy phase (postcopy-active): PART rounds serving page requests first, then the completion
     * and the destination's SHUT. A broken channel does not fail the migration but pauses it (QEMU's
     * postcopy_pause): the destination runs the guest and holds every page it got, so the source waits in
     * postcopy-paused for {@link #resume} and goes on over the new channel. That may happen again and again.
     */
    private void postcopyPhase(SaveVm.Outgoing outgoing) throws IOException {
        while (true) {
            try {
                postcopyRounds(outgoing);
                return;
            } catch (IOException e) {
                if (cancelRequested) {
                    throw e;
                }
                // A destination that failed to load says so with SHUT(1) before it closes: then this is a
                // failure, not a network problem to recover from (QEMU's rp_state.error).
                Integer shut;
                try {
                    shut = rpReader.awaitEnd(SIBLING_ERROR_WAIT_MILLIS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                if (shut != null && shut != 0) {
                    throw new IOException("the destination failed to load the stream (SHUT " + shut + ")", e);
                }
                LOG.log(System.Logger.Level.DEBUG, "postcopy channel broke, pausing", e);
                IOException cause = e;
                while (true) {
                    awaitResume(cause);
                    try {
                        recover(outgoing);
                        break;
                    } catch (IOException again) {
                        if (cancelRequested) {
                            throw again;
                        }
                        LOG.log(System.Logger.Level.DEBUG, "postcopy recovery failed, pausing again", again);
                        cause = again;
                    }
                }
            }
        }
    }

    private void postcopyRounds(SaveVm.Outgoing outgoing) throws IOException {
        MigrationOutput o = out;
        while (true) {
            if (cancelRequested) {
                throw new IOException("cancelled");
            }
            PendingBytes pending = outgoing.pending(false);
            if (pending.total() == 0 || pending.total() < thresholdBytes) {
                break;
            }
            outgoing.iteratePostcopy();
            o.checkError();
            // a faulting destination waits for these bytes
            o.flush();
            rateLimitAndUpdate(o);
        }
        // QEMU's migration_completion in postcopy-active: the rest of RAM, EOF; guest long stopped.
        limiter.setBandwidth(0);
        outgoing.completePostcopy();
        o.flush();
        try {
            connection.finishOutput();
        } catch (IOException e) {
            // the destination may have loaded everything and closed already: its SHUT decides
            LOG.log(System.Logger.Level.DEBUG, "closing the output after EOF failed", e);
        }
        awaitShut(rpReader);
    }

    /**
     * The return path's page requests go to the ram handler's queue and wake the migration thread if it waits
     * out a rate-limit slice (QEMU's migration_make_urgent_request on rate_limit_sem): the ram handler sends
     * requested pages despite the limit, so a faulting destination does not wait for the next slice.
     */
    private ReturnPathReader.PageRequests urgentRequests(RamPostcopySource ram) {
        return (block, start, length) -> {
            ram.requestPages(block, start, length);
            urgent = true;
            synchronized (lock) {
                lock.notifyAll();
            }
        };
    }

    /** postcopy_pause: drop the broken channel, tell the listener, wait for migrate -r or a cancel. */
    private void awaitResume(IOException cause) throws IOException {
        Connection c = connection;
        connection = null;
        if (c != null) {
            c.abort();
        }
        MigrationStatus from = state.status();
        if (!advance(from, MigrationStatus.POSTCOPY_PAUSED)) {
            throw new IOException("cancelled");
        }
        pausedBecause = cause.getMessage() == null ? cause.toString() : cause.getMessage();
        pauses++;
        fire(MigrationStatus.POSTCOPY_PAUSED);
        synchronized (lock) {
            while (resumeOpener == null && !cancelRequested) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted in postcopy-paused", e);
                }
            }
        }
        if (cancelRequested) {
            throw new IOException("cancelled");
        }
    }

    /**
     * migrate_fd_connect with resume, then postcopy_do_resume: the new channel, RECV_BITMAP for every RAM
     * block (the destination answers with what it has; the ram handler's dirty bitmap becomes the rest),
     * POSTCOPY_RESUME, and postcopy-active again on RESUME_ACK.
     */
    private void recover(SaveVm.Outgoing outgoing) throws IOException {
        ConnectionOpener opener;
        synchronized (lock) {
            opener = resumeOpener;
            resumeOpener = null;
        }
        if (!advance(MigrationStatus.POSTCOPY_PAUSED, MigrationStatus.POSTCOPY_RECOVER)) {
            throw new IOException("cancelled");
        }
        fire(MigrationStatus.POSTCOPY_RECOVER);
        RamPostcopySource ram = context.find(RamPostcopySource.class)
                .orElseThrow(() -> new IOException("postcopy-ram: the ram handler offers no postcopy source"));
        Connection c = opener.open();
        connection = c;
        if (cancelRequested) {
            throw new IOException("cancelled");
        }
        priorStreams = streamPosition();
        long prior = priorStreams;
        MigrationOutput o = new MigrationOutput(c.output(), STREAM_BUFFER);
        o.setRateLimiter(total -> limiter.exceeded(prior + total + multifdBytes()));
        ReturnPathReader old = rpReader;
        ReturnPathReader rp = new ReturnPathReader(c.input());
        rp.acceptPageRequests(urgentRequests(ram));
        rp.acceptRecovery(ram);
        // a broken return path breaks this channel too, so that the migration thread pauses
        rp.onError(c::abort);
        out = o;
        pageRequestsBefore += old == null ? 0 : old.pageRequests();
        rpReader = rp;
        rp.start();
        outgoing.resumeOn(o);
        OutgoingCommands w = saveVm.commands(o);
        List<String> blocks = ram.recoveryBlocks();
        for (String b : blocks) {
            w.receivedBitmapRequest(b);
        }
        o.flush();
        try {
            rp.awaitBitmaps(blocks.size(), RECOVERY_SECONDS, TimeUnit.SECONDS);
            ram.resumePrepare();
            w.postcopyResume();
            o.flush();
            rp.awaitResumeAck(RECOVERY_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted in postcopy-recover", e);
        }
        if (!advance(MigrationStatus.POSTCOPY_RECOVER, MigrationStatus.POSTCOPY_ACTIVE)) {
            throw new IOException("cancelled");
        }
        limiter.setBandwidth(settings.parameter("max-postcopy-bandwidth", 0));
        iterationStartNanos = System.nanoTime();
        iterationInitialBytes = sent(o);
        limiter.newSlice(sent(o));
        fire(MigrationStatus.POSTCOPY_ACTIVE);
    }

    /**
     * QEMU's migrate -r URI: a postcopy-paused migration reconnects to where the destination's
     * migrate-recover listens.
     */
    @Override
    public void resume(String uri) {
        MigrationUri parsed = MigrationUri.parse(uri);
        if (parsed.scheme() != MigrationUri.Scheme.TCP && parsed.scheme() != MigrationUri.Scheme.UNIX) {
            throw new IllegalArgumentException("postcopy recovery needs a two-way channel: use tcp: or unix:, not "
                    + uri);
        }
        resume(() -> Transports.connect(parsed));
    }

    /** As {@link #resume(String)}, with the channel from {@code opener}. */
    public void resume(ConnectionOpener opener) {
        synchronized (lock) {
            if (state.status() != MigrationStatus.POSTCOPY_PAUSED || resumeOpener != null) {
                throw new IllegalStateException("Cannot resume if there is no paused migration");
            }
            resumeOpener = opener;
            lock.notifyAll();
        }
    }

    /** Why the migration last went to postcopy-paused, null if it never did. */
    public String pausedBecause() {
        return pausedBecause;
    }

    /** How many times the postcopy channel broke and the migration paused. */
    public int pauses() {
        return pauses;
    }

    /** QEMU's migrate-start-postcopy: switch to postcopy at the next chance (needs capability postcopy-ram). */
    @Override
    public void startPostcopy() {
        if (!settings.capability("postcopy-ram")) {
            throw new IllegalStateException("Enable postcopy with migrate_set_capability before the start of migration");
        }
        startPostcopy = true;
    }

    private void fail(Exception e, boolean restartGuest) {
        guest.setThrottlePercent(0);
        if (restartGuest) {
            guest.start();
        }
        endPosition = streamPosition();
        totalTime = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        MigrationStatus end;
        synchronized (lock) {
            if (cancelRequested) {
                // migrate_fd_cleanup: cancelling ends as cancelled, whatever broke on the way
                end = MigrationStatus.CANCELLED;
            } else {
                error = e.getMessage() == null ? e.toString() : e.getMessage();
                end = MigrationStatus.FAILED;
            }
            state.moveTo(end);
        }
        if (!cancelRequested) {
            LOG.log(System.Logger.Level.DEBUG, "migration failed", e);
        }
        fire(end);
    }

    /** The ram handler's stats of this migration, once its save session is open. */
    private Optional<RamMigrationStats> ramStats() {
        return context.find(RamMigrationMonitor.class).map(RamMigrationMonitor::stats);
    }

    private boolean limiterActive() {
        return limiter.bytesPerSlice() > 0;
    }

    private long multifdBytes() {
        MultifdSendChannels mf = multifd;
        return mf == null ? 0 : mf.bytes();
    }

    /** Bytes sent so far: the main stream and the multifd channels. */
    private long sent(MigrationOutput o) {
        return priorStreams + o.position() + multifdBytes();
    }

    /**
     * QEMU's migration_rate_limit and migration_update_counters: sleep out the rest of the 100 ms slice
     * when its budget is spent, and every 100 ms measure the bandwidth and the downtime threshold.
     */
    private void rateLimitAndUpdate(MigrationOutput o) throws IOException {
        long now = System.nanoTime();
        long sliceEnd = iterationStartNanos + TimeUnit.MILLISECONDS.toNanos(SliceRateLimiter.SLICE_MILLIS);
        if (limiter.exceeded(sent(o)) && now < sliceEnd) {
            synchronized (lock) {
                while (!cancelRequested && !urgent && (now = System.nanoTime()) < sliceEnd) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(lock, sliceEnd - now);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("migration thread interrupted", e);
                    }
                }
            }
        }
        urgent = false;
        if (now < sliceEnd) {
            return;
        }
        long pos = sent(o);
        long transferred = pos - iterationInitialBytes;
        double spentMs = (now - iterationStartNanos) / 1e6;
        double bandwidth = transferred / spentMs;
        thresholdBytes = (long) (bandwidth * downtimeLimit.getAsLong());
        mbps = transferred * 8.0 / (spentMs / 1000.0) / 1e6;
        Optional<RamMigrationStats> ram = ramStats();
        if (ram.isPresent() && bandwidth > 0 && transferred > 10000) {
            expectedDowntime = (long) (ram.get().remaining() / bandwidth);
        }
        iterationStartNanos = now;
        iterationInitialBytes = pos;
        // in postcopy QEMU limits to max-postcopy-bandwidth (0: unlimited), not max-bandwidth
        limiter.setBandwidth(inPostcopy ? settings.parameter("max-postcopy-bandwidth", 0) : maxBandwidth.getAsLong());
        limiter.newSlice(pos);
        ram.ifPresent(this::maybeThrottle);
        MigrationInfo i = info();
        boolean newPass = ram.isPresent() && ram.get().dirtySyncCount() != lastSyncCount;
        if (newPass) {
            lastSyncCount = ram.get().dirtySyncCount();
            LOG.log(System.Logger.Level.DEBUG, "migration pass {0}: {1} bytes remaining", lastSyncCount,
                    ram.get().remaining());
            long pass = lastSyncCount;
            deliver(() -> listener.pass(pass, i));
        }
        deliver(() -> listener.progress(i));
    }

    /** Runs auto-converge once per new dirty-rate period reported by the ram handler. */
    private void maybeThrottle(RamMigrationStats s) {
        if (!settings.capability("auto-converge")) {
            return;
        }
        long key = s.bytesDirtyPeriod() * 31 + s.bytesXferPeriod() * 17 + s.dirtyPagesRate();
        if (key == lastPeriodKey || (s.bytesDirtyPeriod() == 0 && s.bytesXferPeriod() == 0)) {
            return;
        }
        lastPeriodKey = key;
        int next = autoConverge.onPeriod(s.bytesDirtyPeriod(), s.bytesXferPeriod(), guest.throttlePercent());
        if (next >= 0) {
            guest.setThrottlePercent(next);
            LOG.log(System.Logger.Level.DEBUG, "auto-converge: guest throttled to {0} %", next);
        }
    }
}
