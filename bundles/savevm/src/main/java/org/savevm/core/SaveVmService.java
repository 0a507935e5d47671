package org.savevm.core;

import java.io.IOException;
import java.util.Map;
import java.util.UUID;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.IncomingCommands;
import org.savevm.api.MigrationContext;
import org.savevm.api.OutgoingCommands;
import org.savevm.api.RegistryView;
import org.savevm.api.SaveVm;
import org.savevm.api.StateRegistry;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.framing.commands.CommandWriter;
import org.savevm.core.config.MachineIdentity;
import org.savevm.framing.SectionType;
import org.savevm.framing.StreamHeader;
import org.savevm.framing.VmDescription;
import org.savevm.core.loadvm.LoadLimits;
import org.savevm.core.loadvm.StreamLoad;
import org.savevm.core.save.DeviceSections;
import org.savevm.core.save.OutgoingStream;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * The savevm core service. The machine identity written to and checked against the configuration
 * section comes from the ConfigAdmin PID {@code org.savevm.machine}: {@code type} (default
 * pc-i440fx-7.2), optional {@code uuid}, and {@code suppress-vmdesc} (no vmdesc trailer, as QEMU's
 * machine property).
 */
@Component(service = SaveVm.class, configurationPid = SaveVmService.MACHINE_PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class SaveVmService implements SaveVm {
    public static final String MACHINE_PID = "org.savevm.machine";

    private final StateRegistry registry;
    private final VMStateEngine engine;
    private volatile MachineIdentity machine;
    private volatile boolean suppressVmdesc;

    @Activate
    public SaveVmService(@Reference(name = "registry") StateRegistry registry,
            @Reference(name = "engine") VMStateEngine engine,
            Map<String, Object> config) {
        this.registry = registry;
        this.engine = engine;
        configure(config);
    }

    @Modified
    void configure(Map<String, Object> config) {
        Object type = config.get("type");
        MachineIdentity m = MachineIdentity.DEFAULT;
        if (type != null && !type.toString().isBlank()) {
            m = m.withMachineType(type.toString().trim());
        }
        Object uuid = config.get("uuid");
        if (uuid != null && !uuid.toString().isBlank()) {
            m = m.withUuid(UUID.fromString(uuid.toString().trim()));
        }
        this.machine = m;
        this.suppressVmdesc = Boolean.parseBoolean(String.valueOf(config.getOrDefault("suppress-vmdesc", "false")));
    }

    public MachineIdentity machine() {
        return machine;
    }

    @Override
    public Outgoing beginSave(MigrationOutput out, MigrationContext context, BeforeSetup beforeSetup)
            throws IOException {
        RegistryView view = registry.freeze();
        OutgoingStream stream = new OutgoingStream(view, engine, out, context, machine, !suppressVmdesc);
        try {
            stream.begin(beforeSetup);
        } catch (IOException | RuntimeException e) {
            stream.close();
            throw e;
        }
        return stream;
    }

    @Override
    public void load(MigrationInput in, MigrationContext context, IncomingCommands commands) throws IOException {
        new StreamLoad(registry.freeze(), engine, context, machine, commands,
                // a machine with suppress-vmdesc writes no trailer, so its peer's streams end at EOF too
                suppressVmdesc ? LoadLimits.DEFAULTS.withoutRequiredTrailer() : LoadLimits.DEFAULTS).run(in);
    }

    @Override
    public OutgoingCommands commands(MigrationOutput out) {
        return new CommandWriter(out);
    }

    /** qemu_save_device_state: header, FULL sections of device handlers (footers on), EOF. */
    @Override
    public void saveDeviceState(MigrationOutput out) throws IOException {
        RegistryView view = registry.freeze();
        StreamHeader.write(out);
        DeviceSections.write(out, view, engine, true, (VmDescription) null);
        out.putByte(SectionType.EOF);
        out.flush();
    }
}
