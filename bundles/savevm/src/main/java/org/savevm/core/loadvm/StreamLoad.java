package org.savevm.core.loadvm;

import java.io.IOException;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.savevm.api.DeviceStateHandler;
import org.savevm.api.IncomingCommands;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.StateHandler;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.core.config.ConfigurationSection;
import org.savevm.core.config.MachineIdentity;
import org.savevm.core.framing.FramingOptions;
import org.savevm.core.framing.Messages;
import org.savevm.core.framing.SectionFooter;
import org.savevm.core.framing.SectionHeader;
import org.savevm.core.framing.SectionType;
import org.savevm.core.framing.StreamHeader;
import org.savevm.core.framing.VmDescription;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * One incoming stream: QEMU's qemu_loadvm_state and its main loop. Sections are looked up in the
 * frozen registry view; a device section is decoded into a copy of the device's state and committed
 * only after its footer checked out; each live handler gets one load session for the whole stream.
 * Every error is a {@link MigrationStreamException} with the byte offset, and inside a section it names
 * the section's idstr and instance.
 */
public final class StreamLoad {
    private final RegistryView view;
    private final VMStateEngine engine;
    private final MigrationContext context;
    private final MigrationSettings settings;
    private final FramingOptions framing;
    private final MachineIdentity machine;
    private final LoadLimits limits;
    private final CommandDispatcher commands;
    private final Map<Integer, LoadedSection> bySectionId = new HashMap<>();
    private final Map<LiveStateHandler, LiveStateHandler.LoadSession> sessions = new IdentityHashMap<>();

    public StreamLoad(RegistryView view, VMStateEngine engine, MigrationContext context, MachineIdentity machine,
            IncomingCommands incoming, LoadLimits limits) {
        this.view = view;
        this.engine = engine;
        this.context = context;
        this.settings = context.settings();
        this.framing = FramingOptions.of(settings);
        this.machine = machine;
        this.limits = limits;
        this.commands = new CommandDispatcher(incoming, settings, machine.targetPageSize(), limits);
    }

    /** How the section loop ended. */
    private enum Exit {
        EOF, END_OF_PACKAGE
    }

    /** Loads the whole stream: header, configuration, sections up to EOF, then the vmdesc trailer. */
    public void run(MigrationInput in) throws IOException {
        try {
            List<String> blockers = view.blockers();
            if (!blockers.isEmpty()) {
                throw new IOException(String.join("; ", blockers));
            }
            StreamHeader.read(in);
            if (framing.configuration()) {
                long at = in.position();
                int type = in.getByte();
                if (type != SectionType.CONFIGURATION) {
                    throw new MigrationStreamException("Configuration section missing (found section type "
                            + SectionType.name(type) + "; the stream may have been written with send-configuration off)",
                            at);
                }
                try {
                    ConfigurationSection.readAndCheck(in, at, machine, settings);
                } catch (MigrationStreamException e) {
                    throw Messages.prefixed("configuration section", e);
                }
            }
            sectionLoop(in, false);
            if (!commands.listened()) {
                // after postcopy QEMU's loader returns before the trailer, and its source sends none
                VmDescription.readAndDiscard(in, limits.maxVmdescLength());
            }
            for (Map.Entry<LiveStateHandler, LiveStateHandler.LoadSession> e : sessions.entrySet()) {
                try {
                    e.getValue().complete();
                } catch (IOException | RuntimeException ex) {
                    throw new MigrationStreamException("completing the load of live handler '"
                            + e.getKey().registration().fullIdstr() + "' failed: " + ex.getMessage(), in.position(), ex);
                }
            }
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

    private Exit sectionLoop(MigrationInput in, boolean nested) throws IOException {
        while (true) {
            if (nested && in.atEnd()) {
                return Exit.END_OF_PACKAGE;
            }
            long at = in.position();
            int type;
            try {
                type = in.getByte();
            } catch (MigrationStreamException e) {
                throw Messages.prefixed("stream ended where a section type was expected (no EOF marker)", e);
            }
            switch (type) {
            case SectionType.START:
            case SectionType.FULL:
                loadStartOrFull(in, type, at);
                break;
            case SectionType.PART:
            case SectionType.END:
                loadPartOrEnd(in, type, at);
                break;
            case SectionType.COMMAND:
                commands.process(in, at, this::loadPackage);
                break;
            case SectionType.EOF:
                return Exit.EOF;
            case SectionType.FOOTER:
                throw new MigrationStreamException("Unknown savevm section type 126: a section footer where a section"
                        + " should start (the stream has section footers but send-section-footer is off here)", at);
            default:
                throw new MigrationStreamException("Unknown savevm section type " + type, at);
            }
        }
    }

    private void loadStartOrFull(MigrationInput in, int type, long at) throws IOException {
        SectionHeader h;
        try {
            h = SectionHeader.readStartOrFull(in, type, at);
        } catch (MigrationStreamException e) {
            throw Messages.prefixed(SectionType.name(type) + " section header cut short", e);
        }
        String what = "section '" + h.idstr() + "' instance " + Integer.toUnsignedString(h.instanceId());
        RegisteredSection s = view.find(h.idstr(), h.instanceId()).orElseThrow(() -> new MigrationStreamException(
                "Unknown savevm section or instance '" + h.idstr() + "' " + Integer.toUnsignedString(h.instanceId()), at));
        if (Integer.compareUnsigned(h.version(), s.version()) > 0) {
            throw new MigrationStreamException("savevm: unsupported version " + Integer.toUnsignedString(h.version())
                    + " for '" + h.idstr() + "' v" + s.version() + " (" + what + ")", at);
        }
        LoadedSection loaded = new LoadedSection(s, h.sectionId(), h.version(), h.instanceId(), h.idstr());
        if (type == SectionType.START && !s.isLive()) {
            throw new MigrationStreamException("START section for " + what
                    + ", which is a device section here (expected FULL)", at);
        }
        bySectionId.put(h.sectionId(), loaded);
        loadBody(in, loaded, type, at);
    }

    private void loadPartOrEnd(MigrationInput in, int type, long at) throws IOException {
        SectionHeader h;
        try {
            h = SectionHeader.readPartOrEnd(in, type, at);
        } catch (MigrationStreamException e) {
            throw Messages.prefixed(SectionType.name(type) + " section header cut short", e);
        }
        LoadedSection loaded = bySectionId.get(h.sectionId());
        if (loaded == null) {
            throw new MigrationStreamException("Unknown savevm section " + Integer.toUnsignedString(h.sectionId())
                    + " (" + SectionType.name(type) + " without a START)", at);
        }
        if (!loaded.section().isLive()) {
            throw new MigrationStreamException(SectionType.name(type) + " section for " + loaded.describe()
                    + ", which is a device section", at);
        }
        loadBody(in, loaded, type, at);
    }

    private void loadBody(MigrationInput in, LoadedSection loaded, int type, long at) throws IOException {
        String context = SectionType.name(type) + " " + loaded.describe() + " (section id "
                + Integer.toUnsignedString(loaded.streamSectionId()) + ", starting at byte " + at + ")";
        try {
            view.checkPresent(loaded.section());
            StateHandler handler = loaded.section().handler();
            if (handler instanceof LiveStateHandler live) {
                session(live).load(in, loaded.version());
                checkFooter(in, loaded);
            } else if (handler instanceof DeviceStateHandler<?> device) {
                loadDevice(in, device, loaded);
            } else {
                throw new IOException("handler of unknown kind " + handler.getClass().getName());
            }
        } catch (MigrationStreamException e) {
            throw Messages.prefixed(context, e);
        } catch (IOException | RuntimeException e) {
            // a handler's own exception (not a stream error): keep its type when it has no message
            String what = e instanceof IOException && e.getMessage() != null ? e.getMessage() : e.toString();
            throw new MigrationStreamException(context + ": " + what, in.position(), e);
        }
    }

    private <T> void loadDevice(MigrationInput in, DeviceStateHandler<T> device, LoadedSection loaded)
            throws IOException {
        if (engine == null) {
            throw new IOException("no VMState engine available to load a device section");
        }
        T copy = device.copyOfState();
        engine.load(in, device.description(), copy, loaded.version());
        checkFooter(in, loaded);
        device.commit(copy);
    }

    private void checkFooter(MigrationInput in, LoadedSection loaded) throws IOException {
        if (framing.sectionFooters()) {
            SectionFooter.check(in, loaded.section().idstr(), loaded.streamSectionId());
        }
    }

    private LiveStateHandler.LoadSession session(LiveStateHandler live) throws IOException {
        LiveStateHandler.LoadSession s = sessions.get(live);
        if (s == null) {
            s = live.beginLoad(context);
            sessions.put(live, s);
        }
        return s;
    }

    /** PACKAGED: the next {@code length} bytes are a nested stream (no header) loaded by the same loop. */
    private void loadPackage(MigrationInput outer, long length, long commandOffset) throws IOException {
        long base = outer.position();
        BoundedChannel blob = new BoundedChannel(outer, length);
        MigrationInput nested = new MigrationInput(blob, 16 * 1024);
        try {
            sectionLoop(nested, true);
        } catch (MigrationStreamException e) {
            throw new MigrationStreamException("in the PACKAGED blob of " + length + " bytes (command at byte "
                    + commandOffset + "): " + Messages.strip(e), base + e.offset(), e);
        }
        // an EOF inside the blob ends it; what follows is dropped, as QEMU frees the buffer
        outer.skip(blob.remaining());
    }
}
