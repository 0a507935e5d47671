package org.savevm.core.save;

import java.io.IOException;

import org.savevm.api.DeviceStateHandler;
import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.framing.SectionFooter;
import org.savevm.framing.SectionHeader;
import org.savevm.framing.SectionType;
import org.savevm.framing.VmDescription;
import org.savevm.stream.MigrationOutput;

/**
 * The FULL sections of every device handler, in registry order (qemu_savevm_state_complete_precopy's
 * non-iterable part and qemu_save_device_state), each with its vmdesc entry.
 */
public final class DeviceSections {
    private DeviceSections() {
    }

    public static void write(MigrationOutput out, RegistryView view, VMStateEngine engine, boolean footers,
            VmDescription vmdesc) throws IOException {
        for (RegisteredSection s : view.sections()) {
            if (s.handler() instanceof DeviceStateHandler<?> device) {
                view.checkPresent(s);
                writeOne(out, s, device, engine, footers, vmdesc);
            }
        }
    }

    private static <T> void writeOne(MigrationOutput out, RegisteredSection s, DeviceStateHandler<T> device,
            VMStateEngine engine, boolean footers, VmDescription vmdesc) throws IOException {
        if (engine == null) {
            throw new IOException("no VMState engine available to save " + s.describe());
        }
        T state = device.state();
        if (!NeededCheck.topLevelNeeded(device.description(), state)) {
            return;
        }
        SectionHeader.writeStartOrFull(out, SectionType.FULL, s.sectionId(), s.idstr(), s.instanceId(), s.version());
        StringBuilder members = vmdesc == null ? null : new StringBuilder();
        try {
            engine.save(out, device.description(), state, members);
        } catch (IOException | RuntimeException e) {
            throw new IOException("saving " + s.describe() + " failed: " + e.getMessage(), e);
        }
        if (footers) {
            SectionFooter.write(out, s.sectionId());
        }
        if (vmdesc != null) {
            vmdesc.addDevice(s.idstr(), s.instanceId(), members);
        }
        out.checkError();
    }
}
