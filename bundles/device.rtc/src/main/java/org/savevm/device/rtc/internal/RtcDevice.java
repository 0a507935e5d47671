package org.savevm.device.rtc.internal;

import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.GuestTimer;
import org.savevm.api.SectionRegistration;
import org.savevm.api.VirtualClock;
import org.savevm.api.vmstate.DetachedTimer;
import org.savevm.api.vmstate.VMStateDescription;

/**
 * An MC146818 RTC as a device handler: section "mc146818rtc" (instance 0 when alone, alias 0x70). Its periodic and update
 * timers run on the {@link VirtualClock} when present; without one, time stands still and the timers
 * only record expiries. Component property {@code rtc.base} sets the initial guest time (epoch seconds).
 */
@Component(service = DeviceStateHandler.class)
public final class RtcDevice implements DeviceStateHandler<RtcState> {
    private static final int RTC_ISA_BASE = 0x70;
    private final SectionRegistration registration;
    private final RtcState state;
    private final Mc146818 model;
    private final VMStateDescription<RtcState> description;
    private volatile VirtualClock clock;

    @Activate
    public RtcDevice(Map<String, Object> properties) {
        this.model = new Mc146818(this::nowNs);
        this.description = RtcVMState.rtc(model);
        // as QEMU: the next free instance id, legacy alias = the I/O base 0x70 for streams up to version 3
        this.registration = SectionRegistration.builder("mc146818rtc").autoInstance().alias(RTC_ISA_BASE, 3)
                .version(description.version()).build();
        this.state = new RtcState(new DetachedTimer(), new DetachedTimer());
        Object base = properties == null ? null : properties.get("rtc.base");
        long epoch = base instanceof Number n ? n.longValue()
                : base instanceof String str ? Long.parseLong(str.trim()) : System.currentTimeMillis() / 1000;
        model.reset(state, epoch);
    }

    /** A device without OSGi, starting at {@code epochSeconds}. */
    public RtcDevice(long epochSeconds) {
        this(Map.of("rtc.base", epochSeconds));
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindClock(VirtualClock c) {
        model.updateTime(state);
        this.clock = c;
        state.lastUpdate = c.nowNs(); // the time base continues on the new clock
        state.periodicTimer = moveTimer(state.periodicTimer, c.newTimer(this::periodicTick));
        state.updateTimer = moveTimer(state.updateTimer, c.newTimer(this::updateTick));
    }

    synchronized void unbindClock(VirtualClock c) {
        if (this.clock == c) {
            model.updateTime(state);
            this.clock = null;
            state.periodicTimer = moveTimer(state.periodicTimer, new DetachedTimer());
            state.updateTimer = moveTimer(state.updateTimer, new DetachedTimer());
        }
    }

    private static GuestTimer moveTimer(GuestTimer from, GuestTimer to) {
        long expiry = from.expireTimeNs();
        from.cancel();
        to.setExpireTimeNs(expiry);
        return to;
    }

    private long nowNs() {
        VirtualClock c = clock;
        return c == null ? -1 : c.nowNs();
    }

    private synchronized void periodicTick() {
        model.periodicTick(state);
    }

    private synchronized void updateTick() {
        model.updateTick(state);
    }

    @Override
    public SectionRegistration registration() {
        return registration;
    }

    @Override
    public VMStateDescription<RtcState> description() {
        return description;
    }

    @Override
    public synchronized RtcState state() {
        return state;
    }

    @Override
    public synchronized RtcState copyOfState() {
        return state.copy();
    }

    @Override
    public synchronized void commit(RtcState loaded) {
        state.copyFrom(loaded);
    }

    /** Guest write to the index port (0x70). */
    public synchronized void writeIndex(int value) {
        model.writeIndex(state, value);
    }

    /** Guest read of the data port (0x71). */
    public synchronized int readData() {
        return model.readData(state);
    }

    /** Guest write to the data port (0x71). */
    public synchronized void writeData(int value) {
        model.writeData(state, value);
    }

    /** Guest time in epoch seconds. */
    public synchronized long guestSeconds() {
        return model.guestSeconds(state);
    }
}
