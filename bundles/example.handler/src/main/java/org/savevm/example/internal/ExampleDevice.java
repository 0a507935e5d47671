package org.savevm.example.internal;

import static org.savevm.api.vmstate.VMStateFields.uint32;
import static org.savevm.api.vmstate.VMStateFields.uint64;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.SectionRegistration;
import org.savevm.api.vmstate.VMStateDescription;

/**
 * The descriptor-based half of the example: a device whose state is described by a VMState description
 * (section "example-device", automatic instance id, version 1: be64 counter then be32 ticks) and saved and
 * loaded by the vmstate engine, not by hand.
 */
@Component(service = DeviceStateHandler.class)
public final class ExampleDevice implements DeviceStateHandler<ExampleDeviceState> {
    static final String IDSTR = "example-device";
    static final VMStateDescription<ExampleDeviceState> DESCRIPTION = VMStateDescription
            .builder(IDSTR, ExampleDeviceState.class).version(1).minimumVersion(1)
            .field(uint64("counter", s -> s.counter, (s, v) -> s.counter = v))
            .field(uint32("ticks", s -> s.ticks, (s, v) -> s.ticks = v))
            .build();

    private final ExampleDeviceState state = new ExampleDeviceState();

    @Override
    public SectionRegistration registration() {
        return SectionRegistration.builder(IDSTR).autoInstance().version(1).build();
    }

    @Override
    public VMStateDescription<ExampleDeviceState> description() {
        return DESCRIPTION;
    }

    @Override
    public synchronized ExampleDeviceState state() {
        return state;
    }

    @Override
    public synchronized ExampleDeviceState copyOfState() {
        return state.copy();
    }

    @Override
    public synchronized void commit(ExampleDeviceState loaded) {
        state.counter = loaded.counter;
        state.ticks = loaded.ticks;
    }

    /** Something for the guest to change: bumps both registers. */
    synchronized void tick() {
        state.counter++;
        state.ticks += 10;
    }
}
