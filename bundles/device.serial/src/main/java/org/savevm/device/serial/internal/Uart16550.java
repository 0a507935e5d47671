package org.savevm.device.serial.internal;

import java.util.function.IntConsumer;
import java.util.function.LongSupplier;

/**
 * The 16550A register model over a {@link SerialState}: port reads and writes at offsets 0..7, bytes
 * received from the outside, and the FIFO timeout. The transmitter is always ready, so written bytes
 * go straight to the sink.
 */
public final class Uart16550 {
    static final int LCR_DLAB = 0x80;
    static final int IER_RDI = 0x01;
    static final int IER_THRI = 0x02;
    static final int IER_RLSI = 0x04;
    static final int IIR_NO_INT = 0x01;
    static final int IIR_ID = 0x06;
    static final int IIR_THRI = 0x02;
    static final int IIR_RDI = 0x04;
    static final int IIR_RLSI = 0x06;
    static final int IIR_CTI = 0x0c;
    static final int IIR_FE = 0xc0;
    static final int LSR_DR = 0x01;
    static final int LSR_INT_ANY = 0x1e;
    static final int LSR_THRE = 0x20;
    static final int LSR_TEMT = 0x40;
    static final int FCR_FE = 0x01;
    static final int FCR_RFR = 0x02;
    static final int FCR_XFR = 0x04;
    static final int FCR_ITL_MASK = 0xc0;
    static final int MCR_OUT2 = 0x08;
    static final int MSR_CTS = 0x10;
    static final int MSR_DSR = 0x20;
    static final int MSR_DCD = 0x80;
    private static final int[] TRIGGER = {1, 4, 8, 14};
    /** Time of 10 bits at 9600 baud times 4 characters: the receive FIFO timeout. */
    private static final long BASE_CHAR_NS = 1_000_000_000L / 9600 * 10;

    private final IntConsumer transmit;
    private final LongSupplier nowNs;

    public Uart16550(IntConsumer transmit, LongSupplier nowNs) {
        this.transmit = transmit;
        this.nowNs = nowNs;
    }

    /** The state after a hardware reset (QEMU's serial_reset with a backend that has no modem lines). */
    public void reset(SerialState s) {
        s.rbr = 0;
        s.ier = 0;
        s.iir = IIR_NO_INT;
        s.lcr = 0;
        s.lsr = LSR_TEMT | LSR_THRE;
        s.msr = MSR_DCD | MSR_DSR | MSR_CTS;
        s.divider = 0x0c;
        s.mcr = MCR_OUT2;
        s.scr = 0;
        s.fcr = 0;
        s.fcrVmstate = 0;
        s.tsrRetry = 0;
        s.pollMsl = -1;
        s.timeoutIpending = 0;
        s.thrIpending = 0;
        s.fifoTimeoutTimer.cancel();
        s.modemStatusPoll.cancel();
        s.recvFifo.reset();
        s.xmitFifo.reset();
    }

    public int read(SerialState s, int offset) {
        switch (offset & 7) {
        case 0:
            if ((s.lcr & LCR_DLAB) != 0) {
                return s.divider & 0xff;
            }
            int value;
            if ((s.fcr & FCR_FE) != 0) {
                value = s.recvFifo.isEmpty() ? 0 : s.recvFifo.pop();
                if (s.recvFifo.isEmpty()) {
                    s.lsr &= ~LSR_DR;
                    s.fifoTimeoutTimer.cancel();
                }
                s.timeoutIpending = 0;
            } else {
                value = s.rbr;
                s.lsr &= ~LSR_DR;
            }
            updateIrq(s);
            return value;
        case 1:
            return (s.lcr & LCR_DLAB) != 0 ? (s.divider >> 8) & 0xff : s.ier;
        case 2:
            int iir = s.iir;
            if ((iir & IIR_ID) == IIR_THRI) {
                s.thrIpending = 0;
                updateIrq(s);
            }
            return iir;
        case 3:
            return s.lcr;
        case 4:
            return s.mcr;
        case 5:
            int lsr = s.lsr;
            s.lsr &= ~LSR_INT_ANY;
            updateIrq(s);
            return lsr;
        case 6:
            return s.msr;
        default:
            return s.scr;
        }
    }

    public void write(SerialState s, int offset, int value) {
        value &= 0xff;
        switch (offset & 7) {
        case 0:
            if ((s.lcr & LCR_DLAB) != 0) {
                s.divider = (s.divider & 0xff00) | value;
                return;
            }
            s.thr = value;
            s.tsr = value;
            transmit.accept(value);
            s.lsr |= LSR_THRE | LSR_TEMT;
            s.thrIpending = 1;
            updateIrq(s);
            return;
        case 1:
            if ((s.lcr & LCR_DLAB) != 0) {
                s.divider = (s.divider & 0x00ff) | (value << 8);
                return;
            }
            int changed = (s.ier ^ value) & 0x0f;
            s.ier = value & 0x0f;
            if ((changed & IER_THRI) != 0 && (s.ier & IER_THRI) != 0 && (s.lsr & LSR_THRE) != 0) {
                s.thrIpending = 1;
            }
            updateIrq(s);
            return;
        case 2:
            writeFcr(s, value);
            updateIrq(s);
            return;
        case 3:
            s.lcr = value;
            return;
        case 4:
            s.mcr = value & 0x1f;
            return;
        case 7:
            s.scr = value;
            return;
        default:
            // LSR and MSR are read-only
        }
    }

    /** QEMU's serial_write_fcr: FIFO enable, resets and the interrupt trigger level. */
    void writeFcr(SerialState s, int value) {
        if (((s.fcr ^ value) & FCR_FE) != 0) {
            value |= FCR_XFR | FCR_RFR;
        }
        if ((value & FCR_RFR) != 0) {
            s.lsr &= ~(LSR_DR | 0x80);
            s.fifoTimeoutTimer.cancel();
            s.timeoutIpending = 0;
            s.recvFifo.reset();
        }
        if ((value & FCR_XFR) != 0) {
            s.lsr |= LSR_THRE;
            s.thrIpending = 1;
            s.xmitFifo.reset();
        }
        s.fcr = value & 0xc9;
        s.iir = (s.fcr & FCR_FE) != 0 ? (s.iir | IIR_FE) : (s.iir & ~IIR_FE);
    }

    /** A byte arriving from the outside. */
    public void receive(SerialState s, int b) {
        if ((s.fcr & FCR_FE) != 0) {
            if (!s.recvFifo.isFull()) {
                s.recvFifo.push(b);
            } else {
                s.lsr |= 0x02; // overrun
            }
            long now = nowNs.getAsLong();
            if (now >= 0) {
                s.fifoTimeoutTimer.setExpireTimeNs(now + BASE_CHAR_NS * 4);
            }
        } else {
            if ((s.lsr & LSR_DR) != 0) {
                s.lsr |= 0x02;
            }
            s.rbr = b & 0xff;
        }
        s.lsr |= LSR_DR;
        updateIrq(s);
    }

    /** The receive FIFO timeout expired: character timeout interrupt. */
    public void fifoTimeout(SerialState s) {
        if (!s.recvFifo.isEmpty()) {
            s.timeoutIpending = 1;
            updateIrq(s);
        }
    }

    /** QEMU's serial_update_irq: the highest-priority pending cause goes into IIR. */
    void updateIrq(SerialState s) {
        int id = IIR_NO_INT;
        boolean fifo = (s.fcr & FCR_FE) != 0;
        if ((s.ier & IER_RLSI) != 0 && (s.lsr & LSR_INT_ANY) != 0) {
            id = IIR_RLSI;
        } else if ((s.ier & IER_RDI) != 0 && s.timeoutIpending != 0) {
            id = IIR_CTI;
        } else if ((s.ier & IER_RDI) != 0 && (s.lsr & LSR_DR) != 0
                && (!fifo || s.recvFifo.size() >= TRIGGER[(s.fcr & FCR_ITL_MASK) >> 6])) {
            id = IIR_RDI;
        } else if ((s.ier & IER_THRI) != 0 && s.thrIpending != 0) {
            id = IIR_THRI;
        }
        s.iir = id | (s.iir & 0xf0);
    }

    /** True when the UART asserts its interrupt line. */
    public boolean irqRaised(SerialState s) {
        return (s.iir & IIR_NO_INT) == 0;
    }
}
