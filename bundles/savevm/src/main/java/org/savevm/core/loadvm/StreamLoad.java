package org.savevm.core.loadvm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.savevm.api.DeviceStateHandler;
import org.savevm.api.ForeignSections;
import org.savevm.api.IncomingCommands;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.LoadReport;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.StateHandler;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.core.config.ConfigurationSection;
import org.savevm.core.config.MachineIdentity;
import org.savevm.framing.FramingOptions;
import org.savevm.framing.SectionHeader;
import org.savevm.framing.SectionType;
import org.savevm.framing.walk.ConfigurationRecord;
import org.savevm.framing.walk.StreamCommand;
import org.savevm.framing.walk.StreamVisitor;
import org.savevm.framing.walk.StreamWalker;
import org.savevm.framing.walk.WalkOptions;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;
import org.savevm.stream.ProgrammingErrors;

/**
 * One incoming stream: QEMU's qemu_loadvm_state, as a visitor of the {@link StreamWalker}. Sections are
 * looked up in the frozen registry view; a device section is decoded into a copy of the device's state
 * and committed only after its footer checked out; each live handler gets one load session for the
 * whole stream. Every error is a {@link MigrationStreamException} with the byte offset, and inside a
 * section it names the section's idstr and instance.
 *
 * <p>Nothing is lost silently (issue 13): after EOF the vmdesc trailer is read for the sections the source
 * sent, and the load fails when one of them never arrived (QEMU itself does not check; its loader would
 * report success on a stream whose device sections were cut away). A precopy stream must end with that
 * trailer ({@link LoadLimits#trailerRequired}): QEMU 7.2 and savevm write it after every precopy stream, so
 * a stream that ends at its EOF marker, or whose trailer is foreign, oversized, cut or unparsable, cannot be
 * told from one cut short (even right after an EOF byte) and fails. Postcopy streams have no trailer, nor
 * have device-state streams (QEMU's qemu_save_device_state, {@code SaveVm.saveDeviceState}: no configuration
 * record, no live section), which are therefore not held to it.
 * Registered sections that received nothing are named in the {@link LoadReport} published in the context
 * and logged.
 */
public final class StreamLoad implements StreamVisitor<LoadedSection> {
    private final RegistryView view;
    private final VMStateEngine engine;
    private final MigrationContext context;
    private final MigrationSettings settings;
    private final FramingOptions framing;
    private final MachineIdentity machine;
    private final LoadLimits limits;
    private final CommandDispatcher commands;
    private final IncomingCommands incoming;
    private final Map<LiveStateHandler, LiveStateHandler.LoadSession> sessions = new IdentityHashMap<>();
    /** A device section's decoded copy, committed once its footer checked out. */
    private Runnable pendingCommit;
    /** START and FULL sections received, as the stream names them: idstr NUL unsigned instance. */
    private final Set<String> received = new HashSet<>();
    /** The sections the source's vmdesc trailer lists, null until one was read whole. */
    private List<VmdescSections.Entry> vmdescListed;
    private long vmdescOffset = -1;
    /** A configuration record or a live section came: not a device-state stream, the trailer is due. */
    private boolean trailerDue;
    /** Why the trailer could not be read, when it could not: for the refusal of a stream without one. */
    private String trailerProblem = "the trailer is not a vmdesc trailer (0x06), is oversized or cut short";
    /**
     * The registered sections that got a section; by identity, as the frozen view hands out its own entries.
     * (Hashing the record by value would bootstrap its ObjectMethods on the first section of a cold
     * destination: ~40 ms of method-handle spinning on the load thread while the source keeps sending.)
     */
    private final Set<RegisteredSection> served = Collections.newSetFromMap(new IdentityHashMap<>());
    /** FULL sections no handler here loads, read past through the context's {@link ForeignSections}. */
    private final List<String> skipped = new ArrayList<>();

    public StreamLoad(RegistryView view, VMStateEngine engine, MigrationContext context, MachineIdentity machine,
            IncomingCommands incoming, LoadLimits limits) {
        this.view = view;
        this.engine = engine;
        this.context = context;
        this.settings = context.settings();
        this.framing = FramingOptions.of(settings);
        this.machine = machine;
        this.limits = limits;
        this.commands = new CommandDispatcher(incoming, settings, machine.targetPageSize());
        this.incoming = incoming;
    }

    /** Loads the whole stream: header, configuration, sections up to EOF, then the vmdesc trailer. */
    public void run(MigrationInput in) throws IOException {
        try {
            List<String> blockers = view.blockers();
            if (!blockers.isEmpty()) {
                throw new IOException(String.join("; ", blockers));
            }
            WalkOptions options = new WalkOptions(
                    framing.sectionFooters() ? WalkOptions.Footers.PRESENT : WalkOptions.Footers.ABSENT,
                    framing.configuration() ? WalkOptions.Configuration.REQUIRED : WalkOptions.Configuration.ABSENT,
                    ConfigurationSection.KNOWN_CAPABILITIES, false, limits.maxVmdescLength(),
                    limits.maxPackagedLength());
            StreamWalker<LoadedSection> walker = new StreamWalker<>(options, this);
            try {
                walker.walk(in);
            } catch (IOException e) {
                recover(walker, e);
            }
            requireTrailer(in);
            boolean vmdescChecked = checkListedSections();
            for (Map.Entry<LiveStateHandler, LiveStateHandler.LoadSession> e : sessions.entrySet()) {
                try {
                    e.getValue().complete();
                } catch (IOException | RuntimeException ex) {
                    if (ProgrammingErrors.is(ex)) {
                        throw (RuntimeException) ex; // a bug, not a bad stream
                    }
                    throw new MigrationStreamException("completing the load of live handler '"
                            + e.getKey().registration().fullIdstr() + "' failed: " + ex.getMessage(), in.position(), ex);
                }
            }
            report(vmdescChecked);
        } finally {
            for (LiveStateHandler.LoadSession s : sessions.values()) {
                try {
                    s.close();
                } catch (RuntimeException ignored) {
                    // cleanup must reach every session
                }
            }
        }
    }

    /**
     * qemu_loadvm_state_main's retry: a failure once the guest runs here in postcopy does not fail the load
     * but pauses it until the source reconnects; the walk then goes on on the new channel. Repeats as often
     * as the link breaks. Anything earlier (or without postcopy-ram) is fatal as before.
     */
    private void recover(StreamWalker<LoadedSection> walker, IOException failure) throws IOException {
        IOException e = failure;
        while (true) {
            if (commands.postcopyState() != CommandDispatcher.PostcopyState.RUNNING
                    || !settings.capability("postcopy-ram")) {
                throw e;
            }
            MigrationInput next = incoming.postcopyPaused(e);
            try {
                walker.resume(next);
                return;
            } catch (IOException again) {
                e = again;
            }
        }
    }

    @Override
    public void configuration(ConfigurationRecord configuration) throws IOException {
        trailerDue = true;
        ConfigurationSection.check(configuration, machine, settings);
    }

    @Override
    public LoadedSection section(SectionHeader h, LoadedSection started) throws IOException {
        if (started != null) {
            if (started.section() == null || !started.section().isLive()) {
                throw new MigrationStreamException(h.typeName() + " section for " + h.describe()
                        + ", which is a device section", h.offset());
            }
            return started;
        }
        long at = h.offset();
        Optional<RegisteredSection> found = view.find(h.idstr(), h.instanceId());
        if (found.isEmpty()) {
            Optional<ForeignSections> foreign = h.type() == SectionType.FULL ? context.find(ForeignSections.class)
                    : Optional.empty();
            if (foreign.isPresent()) {
                // read past it in body(); the vmdesc check counts it as arrived
                received.add(key(h.idstr(), Integer.toUnsignedLong(h.instanceId())));
                return new LoadedSection(null, h.version(), foreign.get());
            }
            throw new MigrationStreamException("Unknown savevm section or instance '" + h.idstr() + "' "
                    + Integer.toUnsignedString(h.instanceId()), at);
        }
        RegisteredSection s = found.get();
        if (Integer.compareUnsigned(h.version(), s.version()) > 0) {
            throw new MigrationStreamException("savevm: unsupported version " + Integer.toUnsignedString(h.version())
                    + " for '" + h.idstr() + "' v" + s.version() + " (" + h.describe() + ")", at);
        }
        if (h.type() == SectionType.START && !s.isLive()) {
            throw new MigrationStreamException("START section for " + h.describe()
                    + ", which is a device section here (expected FULL)", at);
        }
        trailerDue |= h.type() == SectionType.START;
        received.add(key(h.idstr(), Integer.toUnsignedLong(h.instanceId())));
        served.add(s);
        return new LoadedSection(s, h.version());
    }

    private static String key(String idstr, long instanceId) {
        // a StringBuilder, not '+': the first indy concatenation of this shape would spin method handles on
        // the load thread of a cold destination, at its first section
        return new StringBuilder(idstr.length() + 21).append(idstr).append('\0').append(instanceId).toString();
    }

    /**
     * The vmdesc trailer's device list (read by {@link #vmdescJson}) against the sections received: a
     * listed section that never arrived fails the load. Returns whether the check was made; a missing,
     * foreign, oversized, cut or unparsable trailer is only logged, as QEMU does.
     */
    private boolean checkListedSections() throws MigrationStreamException {
        if (vmdescListed == null) {
            return false;
        }
        List<String> missing = new ArrayList<>();
        for (VmdescSections.Entry e : vmdescListed) {
            if (!received.contains(key(e.name(), e.instanceId()))) {
                missing.add(e.toString());
            }
        }
        if (!missing.isEmpty()) {
            throw new MigrationStreamException("the source's vmdesc trailer lists " + missing.size() + " section"
                    + (missing.size() == 1 ? "" : "s") + " that never arrived: " + String.join(", ", missing)
                    + " (the stream was cut short or sections were removed; nothing may run on this state)",
                    vmdescOffset);
        }
        return true;
    }

    /**
     * A precopy stream without a complete, readable vmdesc trailer fails (see the class comment): it
     * cannot be told from a stream cut short.
     */
    private void requireTrailer(MigrationInput in) throws MigrationStreamException {
        if (vmdescListed != null || !limits.trailerRequired() || !trailerDue || !trailerFollows()) {
            return;
        }
        List<String> nothing = notServed();
        throw new MigrationStreamException("the stream has no complete vmdesc trailer after its EOF marker ("
                + trailerProblem + "); QEMU 7.2 and savevm end every precopy stream with one, so this stream was "
                + "cut short or damaged and nothing may run on this state"
                + (nothing.isEmpty() ? "" : "; registered sections that received nothing: " + String.join(", ", nothing)),
                vmdescOffset >= 0 ? vmdescOffset : in.position());
    }

    /** The registered sections that received no section, as {@code 'idstr' instance N}. */
    private List<String> notServed() {
        List<String> nothing = new ArrayList<>();
        for (RegisteredSection s : view.sections()) {
            if (!served.contains(s)) {
                nothing.add(s.describe());
            }
        }
        return nothing;
    }

    /** Names the registered sections that received nothing, in the context and the log. */
    private void report(boolean vmdescChecked) {
        List<String> nothing = notServed();
        LoadReport report = new LoadReport(nothing, vmdescChecked, skipped);
        context.publish(LoadReport.class, report);
        report.warning().ifPresent(w -> System.getLogger(StreamLoad.class.getName())
                .log(System.Logger.Level.WARNING, w));
    }

    @Override
    public void body(LoadedSection loaded, SectionHeader h, MigrationInput in) throws IOException {
        if (loaded.foreign() != null) {
            long instance = Integer.toUnsignedLong(h.instanceId());
            if (!loaded.foreign().skip(h.idstr(), instance, loaded.version(), in)) {
                throw new MigrationStreamException("Unknown savevm section or instance '" + h.idstr() + "' "
                        + instance + " (no handler here, and the stream's vmdesc does not describe it)", h.offset());
            }
            skipped.add(org.savevm.stream.Printable.escape("'" + h.idstr() + "' instance " + instance));
            return;
        }
        view.checkPresent(loaded.section());
        StateHandler handler = loaded.section().handler();
        if (handler instanceof LiveStateHandler live) {
            session(live).load(in, loaded.version());
        } else if (handler instanceof DeviceStateHandler<?> device) {
            loadDevice(in, device, loaded);
        } else {
            throw new IOException("handler of unknown kind " + handler.getClass().getName());
        }
    }

    @Override
    public void sectionEnd(LoadedSection loaded, SectionHeader h, long length) {
        if (pendingCommit != null) {
            Runnable commit = pendingCommit;
            pendingCommit = null;
            commit.run();
        }
    }

    @Override
    public String footerName(LoadedSection loaded, SectionHeader h) {
        return loaded.section() == null ? h.idstr() : loaded.section().idstr();
    }

    @Override
    public void command(StreamCommand command) throws IOException {
        commands.process(command);
    }

    @Override
    public boolean trailerFollows() {
        // after postcopy QEMU's loader returns before the trailer, and its source sends none
        return !commands.listened();
    }

    @Override
    public void noTrailer() {
        trailerProblem = "nothing follows the EOF marker";
        System.getLogger(StreamLoad.class.getName()).log(System.Logger.Level.DEBUG,
                "no vmdesc trailer after EOF: the sections received cannot be checked");
    }

    @Override
    public void vmdescTrailer(long offset, long length) {
        vmdescOffset = offset;
        trailerProblem = "its vmdesc trailer of " + length + " bytes is beyond the limit of "
                + limits.maxVmdescLength() + " bytes or cut short";
    }

    @Override
    public void vmdescJson(MigrationInput in, long length) throws IOException {
        try {
            vmdescListed = VmdescSections.read(in, length);
        } catch (VmdescSections.Malformed e) {
            trailerProblem = "the trailer's JSON is not a vmdesc: " + e.getMessage();
            System.getLogger(StreamLoad.class.getName()).log(System.Logger.Level.WARNING, "vmdesc trailer at byte offset "
                    + vmdescOffset + " not checked: " + org.savevm.stream.Printable.escape(e.getMessage()));
        }
    }

    private <T> void loadDevice(MigrationInput in, DeviceStateHandler<T> device, LoadedSection loaded)
            throws IOException {
        if (engine == null) {
            throw new IOException("no VMState engine available to load a device section");
        }
        pendingCommit = null;
        T copy = device.copyOfState();
        engine.load(in, device.description(), copy, loaded.version());
        pendingCommit = () -> device.commit(copy);
    }

    private LiveStateHandler.LoadSession session(LiveStateHandler live) throws IOException {
        LiveStateHandler.LoadSession s = sessions.get(live);
        if (s == null) {
            s = live.beginLoad(context);
            sessions.put(live, s);
        }
        return s;
    }
}
