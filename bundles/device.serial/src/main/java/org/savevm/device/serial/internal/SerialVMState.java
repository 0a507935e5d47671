package org.savevm.device.serial.internal;

import static org.savevm.api.vmstate.VMStateFields.int32;
import static org.savevm.api.vmstate.VMStateFields.since;
import static org.savevm.api.vmstate.VMStateFields.struct;
import static org.savevm.api.vmstate.VMStateFields.timer;
import static org.savevm.api.vmstate.VMStateFields.uint16;
import static org.savevm.api.vmstate.VMStateFields.uint32;
import static org.savevm.api.vmstate.VMStateFields.uint8;
import static org.savevm.api.vmstate.VMStateFields.vbuffer;

import org.savevm.api.vmstate.VMStateDescription;

/** QEMU 7.2's descriptors of the isa-serial device (hw/char/serial.c, serial-isa.c, util/fifo8.c). */
public final class SerialVMState {
    private SerialVMState() {
    }

    /** sizeof(Fifo8) and sizeof(SerialState) on x86_64 QEMU 7.2, which -dump-vmstate prints for struct fields. */
    static final int QEMU_FIFO8_SIZE = 24;
    static final int QEMU_SERIAL_STATE_SIZE = 656;

    static final VMStateDescription<Fifo8> FIFO8 = VMStateDescription.builder("Fifo8", Fifo8.class)
            .version(1).minimumVersion(1).qemuStructSize(QEMU_FIFO8_SIZE)
            .field(since(1, vbuffer("data", f -> f.capacity, f -> f.data)))
            .field(uint32("head", f -> f.head, (f, v) -> f.head = v))
            .field(uint32("num", f -> f.num, (f, v) -> f.num = v))
            .build();

    private static VMStateDescription.Builder<SerialState> sub(String name) {
        return VMStateDescription.builder("serial/" + name, SerialState.class).version(1).minimumVersion(1);
    }

    static boolean thrIpendingNeeded(SerialState s) {
        if ((s.ier & Uart16550.IER_THRI) == 0) {
            return false; // THRE is sampled again when the interrupt is enabled
        }
        int expected = (s.iir & Uart16550.IIR_ID) == Uart16550.IIR_THRI ? 1 : 0;
        return s.thrIpending != expected;
    }

    /** QEMU's vmstate_serial: the UART core, with pre_save, pre_load, post_load and 7 subsections. */
    static VMStateDescription<SerialState> serial() {
        return VMStateDescription.builder("serial", SerialState.class).version(3).minimumVersion(2)
                .qemuStructSize(QEMU_SERIAL_STATE_SIZE)
                .preSave(s -> s.fcrVmstate = s.fcr)
                .preLoad(s -> {
                    s.thrIpending = -1;
                    s.pollMsl = -1;
                })
                .postLoad(SerialVMState::postLoad)
                .field(since(2, uint16("divider", s -> s.divider, (s, v) -> s.divider = v)))
                .field(uint8("rbr", s -> s.rbr, (s, v) -> s.rbr = v))
                .field(uint8("ier", s -> s.ier, (s, v) -> s.ier = v))
                .field(uint8("iir", s -> s.iir, (s, v) -> s.iir = v))
                .field(uint8("lcr", s -> s.lcr, (s, v) -> s.lcr = v))
                .field(uint8("mcr", s -> s.mcr, (s, v) -> s.mcr = v))
                .field(uint8("lsr", s -> s.lsr, (s, v) -> s.lsr = v))
                .field(uint8("msr", s -> s.msr, (s, v) -> s.msr = v))
                .field(uint8("scr", s -> s.scr, (s, v) -> s.scr = v))
                .field(since(3, uint8("fcr_vmstate", s -> s.fcrVmstate, (s, v) -> s.fcrVmstate = v)))
                .subsection(sub("thr_ipending").needed(SerialVMState::thrIpendingNeeded)
                        .field(int32("thr_ipending", s -> s.thrIpending, (s, v) -> s.thrIpending = v)).build())
                .subsection(sub("tsr").needed(s -> s.tsrRetry != 0)
                        .field(uint32("tsr_retry", s -> s.tsrRetry, (s, v) -> s.tsrRetry = v))
                        .field(uint8("thr", s -> s.thr, (s, v) -> s.thr = v))
                        .field(uint8("tsr", s -> s.tsr, (s, v) -> s.tsr = v)).build())
                .subsection(sub("recv_fifo").needed(s -> !s.recvFifo.isEmpty())
                        .field(since(1, struct("recv_fifo", FIFO8, s -> s.recvFifo))).build())
                .subsection(sub("xmit_fifo").needed(s -> !s.xmitFifo.isEmpty())
                        .field(since(1, struct("xmit_fifo", FIFO8, s -> s.xmitFifo))).build())
                .subsection(sub("fifo_timeout_timer").needed(s -> s.fifoTimeoutTimer.armed())
                        .field(timer("fifo_timeout_timer", s -> s.fifoTimeoutTimer)).build())
                .subsection(sub("timeout_ipending").needed(s -> s.timeoutIpending != 0)
                        .field(int32("timeout_ipending", s -> s.timeoutIpending, (s, v) -> s.timeoutIpending = v))
                        .build())
                .subsection(sub("poll").needed(s -> s.pollMsl >= 0)
                        .field(int32("poll_msl", s -> s.pollMsl, (s, v) -> s.pollMsl = v))
                        .field(timer("modem_status_poll", s -> s.modemStatusPoll)).build())
                .build();
    }

    /** QEMU's vmstate_isa_serial: section "serial", one struct field "state" over the UART core. */
    public static VMStateDescription<SerialState> isaSerial() {
        return VMStateDescription.builder("serial", SerialState.class).version(3).minimumVersion(2)
                .deviceType("isa-serial")
                .field(struct("state", serial(), s -> s))
                .build();
    }

    /** QEMU's serial_post_load: defaults for old streams, consistency checks, FCR side effects. */
    private static void postLoad(SerialState s, int version) {
        if (version < 3) {
            s.fcrVmstate = 0;
        }
        if (s.thrIpending == -1) {
            s.thrIpending = (s.iir & Uart16550.IIR_ID) == Uart16550.IIR_THRI ? 1 : 0;
        }
        if (s.tsrRetry != 0) {
            if ((s.lsr & Uart16550.LSR_TEMT) != 0) {
                throw new IllegalStateException("inconsistent state in serial device (tsr empty, tsr_retry="
                        + Integer.toUnsignedString(s.tsrRetry) + ")");
            }
        } else if ((s.lsr & Uart16550.LSR_TEMT) == 0) {
            throw new IllegalStateException("inconsistent state in serial device (tsr not empty, tsr_retry=0)");
        }
        s.recvFifo.checkConsistent();
        s.xmitFifo.checkConsistent();
        // QEMU applies fcr_vmstate through the FCR write path; keep the FIFO contents just loaded.
        s.fcr = s.fcrVmstate & 0xc9;
        s.iir = (s.fcr & Uart16550.FCR_FE) != 0 ? (s.iir | Uart16550.IIR_FE) : (s.iir & ~Uart16550.IIR_FE);
    }
}
