package org.savevm.core.save;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.PendingBytes;
import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.SaveVm;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.framing.commands.CommandWriter;
import org.savevm.core.config.ConfigurationSection;
import org.savevm.core.config.MachineIdentity;
import org.savevm.framing.FramingOptions;
import org.savevm.framing.SectionFooter;
import org.savevm.framing.SectionHeader;
import org.savevm.framing.SectionType;
import org.savevm.framing.StreamHeader;
import org.savevm.framing.VmDescription;
import org.savevm.stream.MigrationOutput;

/**
 * One outgoing stream: qemu_savevm_state_header/setup/iterate/pending/complete_precopy over a frozen
 * registry view. Live handlers each have one save session; device handlers are written as FULL
 * sections at completion.
 */
public final class OutgoingStream implements SaveVm.Outgoing {
    /** An active live handler with its per-stream session. */
    private record Live(RegisteredSection section, LiveStateHandler.SaveSession session) {
    }

    private final RegistryView view;
    private final VMStateEngine engine;
    /** The channel written to; a postcopy recovery replaces it (migration thread only). */
    private MigrationOutput out;
    private final MigrationContext context;
    private final MigrationSettings settings;
    private final FramingOptions framing;
    private final MachineIdentity machine;
    private final boolean sendVmdesc;
    private final List<Live> live = new ArrayList<>();
    private boolean completed;
    private boolean closed;
    /** Set once the non-postcopiable handlers are completed: the stream is in postcopy from then on. */
    private boolean inPostcopy;

    public OutgoingStream(RegistryView view, VMStateEngine engine, MigrationOutput out, MigrationContext context,
            MachineIdentity machine, boolean sendVmdesc) {
        this.view = view;
        this.engine = engine;
        this.out = out;
        this.context = context;
        this.settings = context.settings();
        this.framing = FramingOptions.of(settings);
        this.machine = machine;
        this.sendVmdesc = sendVmdesc;
    }

    /**
     * Blockers, header, configuration, {@code beforeSetup}'s commands, and the START section of every
     * active live handler.
     */
    public void begin(SaveVm.BeforeSetup beforeSetup) throws IOException {
        List<String> blockers = view.blockers();
        if (!blockers.isEmpty()) {
            throw new IOException(String.join("; ", blockers));
        }
        StreamHeader.write(out);
        if (framing.configuration()) {
            ConfigurationSection.write(out, machine, settings);
        }
        beforeSetup.write(new CommandWriter(out));
        out.checkError();
        for (RegisteredSection s : view.sections()) {
            if (!(s.handler() instanceof LiveStateHandler handler)) {
                continue;
            }
            view.checkPresent(s);
            if (!handler.isActive(settings)) {
                continue;
            }
            LiveStateHandler.SaveSession session;
            try {
                session = handler.beginSave(context);
            } catch (IOException | RuntimeException e) {
                throw failure("setup of", s, e);
            }
            live.add(new Live(s, session));
            if (s.sectionId() == 0) {
                // QEMU finds PART/END handlers by se->load_section_id, which is 0 for every handler it
                // has not seen a START/FULL of yet: it would hand this section's PARTs to its first
                // handler ("timer"), so real QEMU cannot load such a stream
                System.getLogger(OutgoingStream.class.getName()).log(System.Logger.Level.WARNING,
                        "live section " + s.describe() + " has section id 0: QEMU 7.2 cannot load its PART/END"
                                + " sections (in QEMU id 0 is the \"timer\" section)");
            }
            SectionHeader.writeStartOrFull(out, SectionType.START, s.sectionId(), s.idstr(), s.instanceId(),
                    s.version());
            try {
                session.setup(out);
            } catch (IOException | RuntimeException e) {
                throw failure("setup of", s, e);
            }
            footer(s);
            out.flush();
        }
    }

    private static IOException failure(String what, RegisteredSection s, Exception e) {
        return new IOException(what + " " + s.describe() + " failed: " + e.getMessage(), e);
    }

    private void footer(RegisteredSection s) {
        if (framing.sectionFooters()) {
            SectionFooter.write(out, s.sectionId());
        }
    }

    /**
     * qemu_savevm_state_iterate: a PART section per live handler that wants one, in order, stopping at
     * the rate limit or at the first handler that has not finished its stage.
     */
    @Override
    public boolean iterate() throws IOException {
        return iterateRound(false);
    }

    @Override
    public void resumeOn(MigrationOutput newOut) throws IOException {
        if (!inPostcopy || closed) {
            throw new IOException("only a stream in postcopy can be resumed on a new channel");
        }
        // a completion the broken channel cut short is sent again on the new one
        completed = false;
        this.out = newOut;
    }

    @Override
    public boolean iteratePostcopy() throws IOException {
        return iterateRound(true);
    }

    private boolean iterateRound(boolean postcopyOnly) throws IOException {
        checkOpen();
        // once in postcopy the other handlers have sent their END: only postcopiable ones iterate
        boolean postcopy = postcopyOnly || inPostcopy;
        for (Live l : live) {
            view.checkPresent(l.section());
            if (!l.session().isActiveIterate()) {
                continue;
            }
            if (postcopy && !((LiveStateHandler) l.section().handler()).hasPostcopy()) {
                continue;
            }
            // In postcopy a postcopiable handler keeps to the limit itself but sends the pages a faulting
            // destination asked for despite it (QEMU's postcopy_has_request): skipping it here would hold a
            // request until the next rate-limit slice.
            if (!postcopy && out.rateLimitExceeded()) {
                out.checkError();
                return false;
            }
            SectionHeader.writePartOrEnd(out, SectionType.PART, l.section().sectionId());
            boolean done;
            try {
                done = l.session().iterate(out);
            } catch (IOException | RuntimeException e) {
                throw failure("iteration of", l.section(), e);
            }
            footer(l.section());
            out.checkError();
            if (!done) {
                return false;
            }
        }
        return true;
    }

    @Override
    public PendingBytes pending(boolean exact) throws IOException {
        checkOpen();
        PendingBytes total = PendingBytes.NONE;
        for (Live l : live) {
            view.checkPresent(l.section());
            total = total.plus(l.session().pending(exact));
        }
        return total;
    }

    @Override
    public boolean firstPassDone() {
        for (Live l : live) {
            if (!l.session().firstPassDone()) {
                return false;
            }
        }
        return true;
    }

    /** END sections, then FULL device sections, EOF and the vmdesc trailer; flushes. */
    @Override
    public void complete() throws IOException {
        checkOpen();
        if (completed) {
            throw new IllegalStateException("complete() called twice");
        }
        if (inPostcopy) {
            throw new IllegalStateException("in postcopy: use completePostcopy()");
        }
        completed = true;
        for (Live l : live) {
            view.checkPresent(l.section());
            SectionHeader.writePartOrEnd(out, SectionType.END, l.section().sectionId());
            try {
                l.session().completePrecopy(out);
            } catch (IOException | RuntimeException e) {
                throw failure("completion of", l.section(), e);
            }
            footer(l.section());
            out.checkError();
        }
        VmDescription vmdesc;
        if (capturedDevices != null) {
            out.putBytes(capturedDevices);
            vmdesc = capturedVmdesc;
        } else {
            vmdesc = new VmDescription(machine.targetPageSize());
            DeviceSections.write(out, view, engine, framing.sectionFooters(), vmdesc);
        }
        out.putByte(SectionType.EOF);
        if (sendVmdesc) {
            VmDescription.writeTrailer(out, vmdesc.finish());
        }
        out.flush();
    }

    /** The FULL device sections captured by {@link #captureDeviceState}, written by {@link #complete}. */
    private byte[] capturedDevices;
    private VmDescription capturedVmdesc;

    @Override
    public void captureDeviceState() throws IOException {
        checkOpen();
        if (completed || inPostcopy) {
            throw new IllegalStateException("device state captured after completion began");
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        VmDescription vmdesc = new VmDescription(machine.targetPageSize());
        try (MigrationOutput blob = new MigrationOutput(java.nio.channels.Channels.newChannel(bytes))) {
            DeviceSections.write(blob, view, engine, framing.sectionFooters(), vmdesc);
            blob.flush();
        }
        capturedDevices = bytes.toByteArray();
        capturedVmdesc = vmdesc;
    }

    @Override
    public void completeNonPostcopiable() throws IOException {
        checkOpen();
        if (inPostcopy) {
            throw new IllegalStateException("already in postcopy");
        }
        inPostcopy = true;
        for (Live l : live) {
            view.checkPresent(l.section());
            if (((LiveStateHandler) l.section().handler()).hasPostcopy()) {
                continue;
            }
            SectionHeader.writePartOrEnd(out, SectionType.END, l.section().sectionId());
            try {
                l.session().completePrecopy(out);
            } catch (IOException | RuntimeException e) {
                throw failure("completion of", l.section(), e);
            }
            footer(l.section());
            out.checkError();
        }
        out.flush();
    }

    @Override
    public void writeDeviceSections(MigrationOutput blob) throws IOException {
        checkOpen();
        DeviceSections.write(blob, view, engine, framing.sectionFooters(), null);
        blob.flush();
    }

    @Override
    public void completePostcopy() throws IOException {
        checkOpen();
        if (!inPostcopy) {
            throw new IllegalStateException("completePostcopy() before completeNonPostcopiable()");
        }
        if (completed) {
            throw new IllegalStateException("stream already completed");
        }
        completed = true;
        for (Live l : live) {
            view.checkPresent(l.section());
            if (!((LiveStateHandler) l.section().handler()).hasPostcopy()) {
                continue;
            }
            SectionHeader.writePartOrEnd(out, SectionType.END, l.section().sectionId());
            try {
                l.session().completePostcopy(out);
            } catch (IOException | RuntimeException e) {
                throw failure("postcopy completion of", l.section(), e);
            }
            footer(l.section());
            out.checkError();
        }
        out.putByte(SectionType.EOF);
        out.flush();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("outgoing stream already closed");
        }
    }

    /** save_cleanup of every live handler, whatever happened before. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Live l : live) {
            try {
                l.session().close();
            } catch (RuntimeException ignored) {
                // every session gets its cleanup
            }
        }
    }
}
