package org.savevm.migration.internal;

import java.util.function.Supplier;

import org.savevm.api.VirtualClock;
import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.Machine;
import org.savevm.api.migration.GuestControl;

/** The guest as the machine and timer bundles provide it: the workload thread and the virtual clock, either optional. */
final class MachineGuest implements GuestControl {
    private final Supplier<Machine> machine;
    private final Supplier<VirtualClock> clock;

    MachineGuest(Supplier<Machine> machine, Supplier<VirtualClock> clock) {
        this.machine = machine;
        this.clock = clock;
    }

    private GuestWorkload workload() {
        Machine m = machine.get();
        return m == null ? null : m.workload();
    }

    @Override
    public boolean running() {
        GuestWorkload w = workload();
        if (w != null) {
            return w.running();
        }
        VirtualClock c = clock.get();
        return c != null && c.running();
    }

    @Override
    public void stop() {
        GuestWorkload w = workload();
        if (w != null) {
            w.pause();
        }
        VirtualClock c = clock.get();
        if (c != null && c.running()) {
            c.stop();
        }
    }

    @Override
    public void start() {
        VirtualClock c = clock.get();
        if (c != null && !c.running()) {
            c.start();
        }
        GuestWorkload w = workload();
        if (w != null) {
            w.resume();
        }
    }

    @Override
    public void setThrottlePercent(int percent) {
        GuestWorkload w = workload();
        if (w != null) {
            w.setThrottlePercent(percent);
        }
    }

    @Override
    public int throttlePercent() {
        GuestWorkload w = workload();
        return w == null ? 0 : w.throttlePercent();
    }
}
