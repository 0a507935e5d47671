package org.savevm.timer.internal;

/**
 * The migrated form of the clock: QEMU 7.2's TimersState fields that vmstate "timer" carries. Offsets
 * are stored as QEMU has them while the guest is stopped, i.e. the tick count and the virtual clock
 * value. The icount members are only there so that a stream from an icount source loads; this clock
 * never runs in icount mode and so never sends them.
 */
public final class TimersState {
    long cpuTicksOffset;
    long cpuClockOffset;
    boolean icount;
    long icountBias;
    long icountCount;
    long vmClockWarpStart;
    final InertTimer warpTimer = new InertTimer();
    final InertTimer rtTimer = new InertTimer();
    final InertTimer vmTimer = new InertTimer();
    int icountTimeShift;
    long lastDelta;

    TimersState copy() {
        TimersState c = new TimersState();
        c.cpuTicksOffset = cpuTicksOffset;
        c.cpuClockOffset = cpuClockOffset;
        c.icount = icount;
        c.icountBias = icountBias;
        c.icountCount = icountCount;
        c.vmClockWarpStart = vmClockWarpStart;
        c.warpTimer.setExpireTimeNs(warpTimer.expireTimeNs());
        c.rtTimer.setExpireTimeNs(rtTimer.expireTimeNs());
        c.vmTimer.setExpireTimeNs(vmTimer.expireTimeNs());
        c.icountTimeShift = icountTimeShift;
        c.lastDelta = lastDelta;
        return c;
    }

    public long cpuTicksOffset() {
        return cpuTicksOffset;
    }

    public long cpuClockOffset() {
        return cpuClockOffset;
    }
}
