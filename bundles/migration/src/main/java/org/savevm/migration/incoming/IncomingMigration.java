package org.savevm.migration.incoming;

import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
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
import org.savevm.api.machine.RamBlock;
import org.savevm.api.migration.GuestControl;
import org.savevm.api.migration.Incoming;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.settings.MigrationParameters;
import org.savevm.migration.multifd.MultifdRecvChannels;
import org.savevm.migration.postcopy.PostcopyIncoming;
import org.savevm.migration.returnpath.ReturnPathWriter;
import org.savevm.migration.state.MigrationStateMachine;
import org.savevm.migration.state.MigrationTransitions;
import org.savevm.migration.transport.Connection;
import org.savevm.migration.transport.Listener;
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

    public IncomingMigration(SaveVm saveVm, Listener listener, MigrationSettings settings, GuestControl guest,
            boolean autostart, MigrationListener events) {
        this.saveVm = saveVm;
        this.listener = listener;
        this.settings = settings;
        this.context = new MigrationContext(settings);
        this.guest = guest;
        this.autostart = autostart;
        this.events = events;
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
        long bytes = i == null ? 0 : i.position();
        long total = totalTime >= 0 ? totalTime
                : acceptNanos == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acceptNanos);
        MigrationStatus st = state.status();
        return new MigrationInfo(st, total, 0, 0, 0, null, bytes, bytes, 0, 0, 0, false, false, false,
                st == MigrationStatus.FAILED ? error : null, 0, multifd == null ? 0 : multifd.bytes());
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

    /** The return path, once the source opened it (OPEN_RETURN_PATH). */
    private volatile ReturnPathWriter returnPath;
    private volatile PostcopyIncoming postcopy = PostcopyIncoming.NONE;

    /** Guest RAM by block idstr, where the multifd channels put the pages they receive. */
    public void setRamBlocks(Function<String, Optional<RamBlock>> ramBlocks) {
        this.ramBlocks = ramBlocks;
    }

    /** How postcopy commands reach guest RAM (the ram handler's destination side). */
    public void setPostcopy(PostcopyIncoming postcopy) {
        this.postcopy = postcopy;
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
            in = new MigrationInput(c.input(), STREAM_BUFFER);
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
                    postcopy.listen(context, (block, offset) -> {
                        try {
                            w.requestPages(block, offset, RamBlock.TARGET_PAGE_SIZE);
                        } catch (IOException e) {
                            LOG.log(System.Logger.Level.WARNING, "page request for " + block + " failed", e);
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
            });
            postcopy.finish();
            ReturnPathWriter w = returnPath;
            if (w != null) {
                w.shut(false);
            }
            connection = null;
            try {
                c.close();
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
