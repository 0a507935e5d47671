package org.savevm.core.testing;

import org.savevm.api.DeviceStateHandler;
import org.savevm.api.SectionRegistration;
import org.savevm.api.vmstate.VMStateDescription;

/** A device whose section body is {@code size} opaque bytes. Counts commits. */
public final class BlobDevice implements DeviceStateHandler<BlobState> {
    private final SectionRegistration registration;
    private final VMStateDescription<BlobState> description;
    private BlobState state;
    public int commits;

    public BlobDevice(String idstr, int instance, int version, int size) {
        this(idstr, instance, version, new byte[size]);
    }

    public BlobDevice(String idstr, int instance, int version, byte[] initial) {
        this(registrationOf(idstr, instance, version, null), initial);
    }

    public BlobDevice(String idstr, int instance, int version, int size, String orderKey) {
        this(registrationOf(idstr, instance, version, orderKey), new byte[size]);
    }

    /** A qdev-style "path/name" idstr becomes devicePath + idstr, as a device bundle would register it. */
    private static SectionRegistration registrationOf(String idstr, int instance, int version, String orderKey) {
        int slash = idstr.lastIndexOf('/');
        SectionRegistration.Builder b = SectionRegistration.builder(slash < 0 ? idstr : idstr.substring(slash + 1))
                .instanceId(instance).version(version).orderKey(orderKey);
        if (slash >= 0) {
            b.devicePath(idstr.substring(0, slash));
        }
        return b.build();
    }

    public BlobDevice(SectionRegistration registration, byte[] initial) {
        String idstr = registration.fullIdstr();
        this.registration = registration;
        int version = registration.version();
        String vmsdName = idstr.contains("/") ? idstr.substring(idstr.lastIndexOf('/') + 1) : idstr;
        this.description = new VMStateDescription<>(vmsdName, version, 0);
        this.state = new BlobState(initial.clone());
    }

    public byte[] data() {
        return state.data;
    }

    @Override
    public SectionRegistration registration() {
        return registration;
    }

    @Override
    public VMStateDescription<BlobState> description() {
        return description;
    }

    @Override
    public BlobState state() {
        return state;
    }

    @Override
    public BlobState copyOfState() {
        return new BlobState(state.data.clone());
    }

    @Override
    public void commit(BlobState loaded) {
        state = loaded;
        commits++;
    }
}
