package org.savevm.device.serial.internal;

import org.savevm.api.GuestTimer;
import org.savevm.api.vmstate.DetachedTimer;

/**
 * The migrated state of a 16550A UART, QEMU's SerialState: registers, FIFOs, pending-interrupt flags
 * and two timers. Plain fields so that the VMState descriptor reads like QEMU's.
 */
public final class SerialState {
    static final int FIFO_LENGTH = 16;

    int divider;
    int rbr;
    int thr;
    int tsr;
    int ier;
    int iir;
    int lcr;
    int mcr;
    int lsr;
    int msr;
    int scr;
    int fcr;
    int fcrVmstate;
    int thrIpending;
    int timeoutIpending;
    int tsrRetry;
    int pollMsl;
    final Fifo8 recvFifo = new Fifo8(FIFO_LENGTH);
    final Fifo8 xmitFifo = new Fifo8(FIFO_LENGTH);
    GuestTimer fifoTimeoutTimer;
    GuestTimer modemStatusPoll;

    SerialState(GuestTimer fifoTimeoutTimer, GuestTimer modemStatusPoll) {
        this.fifoTimeoutTimer = fifoTimeoutTimer;
        this.modemStatusPoll = modemStatusPoll;
    }

    /** A detached copy: its timers only record expiries. */
    SerialState copy() {
        SerialState c = new SerialState(DetachedTimer.copyOf(fifoTimeoutTimer), DetachedTimer.copyOf(modemStatusPoll));
        c.copyRegistersFrom(this);
        return c;
    }

    /** Copies everything but the timer objects; the timers take the other state's expiries. */
    void copyFrom(SerialState o) {
        copyRegistersFrom(o);
        fifoTimeoutTimer.setExpireTimeNs(o.fifoTimeoutTimer.expireTimeNs());
        modemStatusPoll.setExpireTimeNs(o.modemStatusPoll.expireTimeNs());
    }

    private void copyRegistersFrom(SerialState o) {
        divider = o.divider;
        rbr = o.rbr;
        thr = o.thr;
        tsr = o.tsr;
        ier = o.ier;
        iir = o.iir;
        lcr = o.lcr;
        mcr = o.mcr;
        lsr = o.lsr;
        msr = o.msr;
        scr = o.scr;
        fcr = o.fcr;
        fcrVmstate = o.fcrVmstate;
        thrIpending = o.thrIpending;
        timeoutIpending = o.timeoutIpending;
        tsrRetry = o.tsrRetry;
        pollMsl = o.pollMsl;
        recvFifo.copyFrom(o.recvFifo);
        xmitFifo.copyFrom(o.xmitFifo);
    }

    public int divider() {
        return divider;
    }

    public int lcr() {
        return lcr;
    }

    public int scr() {
        return scr;
    }

    public int lsr() {
        return lsr;
    }

    public int iir() {
        return iir;
    }

    public int ier() {
        return ier;
    }

    public int fcr() {
        return fcr;
    }

    public int receivedBytes() {
        return recvFifo.size();
    }
}
