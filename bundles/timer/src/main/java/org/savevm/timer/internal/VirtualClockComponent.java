package org.savevm.timer.internal;

import java.util.Map;
import java.util.function.LongSupplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.GuestTimer;
import org.savevm.api.MigrationPriority;
import org.savevm.api.SectionRegistration;
import org.savevm.api.VirtualClock;
import org.savevm.api.vmstate.VMStateDescription;

/**
 * The guest's virtual clock and its "timer" section (instance 0, version 2, default priority, as
 * cpu_timers_init registers it). The clock starts stopped, like QEMU before vm_start, unless the
 * component property {@code start} is true. The scheduler thread lives from activation to
 * deactivation.
 */
@Component(service = { VirtualClock.class, DeviceStateHandler.class }, configurationPid = "org.savevm.timer")
public final class VirtualClockComponent implements VirtualClock, DeviceStateHandler<TimersState> {
    /**
     * QEMU registers "timer" before any other handler (section id 0), so it is the first FULL section;
     * this key sorts it ahead of device idstrs among equal priorities.
     */
    static final String ORDER_KEY = "0000 timer";

    private static final SectionRegistration REGISTRATION = SectionRegistration.builder(TimerSection.NAME)
            .instanceId(0).version(TimerSection.VERSION).priority(MigrationPriority.DEFAULT).orderKey(ORDER_KEY)
            .build();

    private final GuestClock clock;
    private final VMStateDescription<TimersState> description = TimerSection.description();
    /** icount members of the last loaded stream; never produced locally. */
    private volatile TimersState icount = new TimersState();

    @Activate
    public VirtualClockComponent(Map<String, Object> config) {
        this(System::nanoTime, Boolean.parseBoolean(String.valueOf(config.getOrDefault("start", "false"))));
    }

    VirtualClockComponent(LongSupplier hostNanos, boolean start) {
        this.clock = new GuestClock(hostNanos);
        clock.open("savevm-virtual-clock");
        if (start) {
            clock.start();
        }
    }

    /** Stops the scheduler thread. */
    @Deactivate
    public void deactivate() throws InterruptedException {
        clock.close();
    }

    boolean schedulerAlive() {
        return clock.schedulerAlive();
    }

    @Override
    public long nowNs() {
        return clock.nowNs();
    }

    /** cpu_get_ticks: host ticks (here nanoseconds) counted only while running. */
    public long ticks() {
        return clock.ticks();
    }

    @Override
    public boolean running() {
        return clock.running();
    }

    @Override
    public void stop() {
        clock.stop();
    }

    @Override
    public void start() {
        clock.start();
    }

    @Override
    public GuestTimer newTimer(Runnable callback) {
        return clock.newTimer(callback);
    }

    @Override
    public SectionRegistration registration() {
        return REGISTRATION;
    }

    @Override
    public VMStateDescription<TimersState> description() {
        return description;
    }

    /** A consistent snapshot of the clock in its migrated form (QEMU saves with the guest stopped). */
    @Override
    public TimersState state() {
        TimersState s = icount.copy();
        s.icount = false;
        clock.snapshot(s);
        return s;
    }

    @Override
    public TimersState copyOfState() {
        return state();
    }

    @Override
    public void commit(TimersState loaded) {
        icount = loaded.copy();
        clock.restore(loaded);
    }
}
