package org.savevm.device.rtc.internal;

import org.savevm.api.GuestTimer;
import org.savevm.api.vmstate.DetachedTimer;

/**
 * The migrated state of an MC146818 RTC, QEMU's MC146818RtcState: 128 bytes of CMOS (time, alarm
 * and control registers A-D, NVRAM), the index latch, the periodic and update timers and the guest
 * time base ({@code baseRtc} seconds at clock time {@code lastUpdate}, plus {@code offset} ns).
 */
public final class RtcState {
    final byte[] cmosData = new byte[128];
    int cmosIndex;
    GuestTimer periodicTimer;
    long nextPeriodicTime;
    int irqCoalesced;
    int period;
    long baseRtc;
    long lastUpdate;
    long offset;
    GuestTimer updateTimer;
    long nextAlarmTime;
    int irqReinjectOnAckCount;

    RtcState(GuestTimer periodicTimer, GuestTimer updateTimer) {
        this.periodicTimer = periodicTimer;
        this.updateTimer = updateTimer;
    }

    /** A detached copy whose timers only record expiries. */
    RtcState copy() {
        RtcState c = new RtcState(DetachedTimer.copyOf(periodicTimer), DetachedTimer.copyOf(updateTimer));
        c.copyValuesFrom(this);
        return c;
    }

    /** Takes the other state's values; this state's timers take its expiries. */
    void copyFrom(RtcState o) {
        copyValuesFrom(o);
        periodicTimer.setExpireTimeNs(o.periodicTimer.expireTimeNs());
        updateTimer.setExpireTimeNs(o.updateTimer.expireTimeNs());
    }

    private void copyValuesFrom(RtcState o) {
        System.arraycopy(o.cmosData, 0, cmosData, 0, cmosData.length);
        cmosIndex = o.cmosIndex;
        nextPeriodicTime = o.nextPeriodicTime;
        irqCoalesced = o.irqCoalesced;
        period = o.period;
        baseRtc = o.baseRtc;
        lastUpdate = o.lastUpdate;
        offset = o.offset;
        nextAlarmTime = o.nextAlarmTime;
        irqReinjectOnAckCount = o.irqReinjectOnAckCount;
    }

    int cmos(int index) {
        return cmosData[index] & 0xff;
    }

    public int period() {
        return period;
    }

    public long baseRtc() {
        return baseRtc;
    }

    public GuestTimer periodicTimer() {
        return periodicTimer;
    }

    public GuestTimer updateTimer() {
        return updateTimer;
    }
}
