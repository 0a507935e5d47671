package org.savevm.device.rtc.internal;

import static org.savevm.api.vmstate.VMStateFields.buffer;
import static org.savevm.api.vmstate.VMStateFields.int64;
import static org.savevm.api.vmstate.VMStateFields.since;
import static org.savevm.api.vmstate.VMStateFields.timer;
import static org.savevm.api.vmstate.VMStateFields.uint16;
import static org.savevm.api.vmstate.VMStateFields.uint32;
import static org.savevm.api.vmstate.VMStateFields.uint64;
import static org.savevm.api.vmstate.VMStateFields.uint8;
import static org.savevm.api.vmstate.VMStateFields.unused;

import org.savevm.api.vmstate.VMStateDescription;

/** QEMU 7.2's vmstate_rtc (hw/rtc/mc146818rtc.c): version 3, minimum 1, one subsection. */
public final class RtcVMState {
    private RtcVMState() {
    }

    public static VMStateDescription<RtcState> rtc(Mc146818 model) {
        return VMStateDescription.builder("mc146818rtc", RtcState.class).version(3).minimumVersion(1)
                .deviceType("mc146818rtc")
                .preSave(model::updateTime)
                .postLoad((s, version) -> {
                    if (version <= 2) {
                        model.setTimeFromRegisters(s);
                    }
                    s.period = Mc146818.periodicTicks(s);
                })
                .field(buffer("cmos_data", 128, s -> s.cmosData))
                .field(uint8("cmos_index", s -> s.cmosIndex, (s, v) -> s.cmosIndex = v))
                .field(unused(7 * 4))
                .field(timer("periodic_timer", s -> s.periodicTimer))
                .field(int64("next_periodic_time", s -> s.nextPeriodicTime, (s, v) -> s.nextPeriodicTime = v))
                .field(unused(3 * 8))
                .field(since(2, uint32("irq_coalesced", s -> s.irqCoalesced, (s, v) -> s.irqCoalesced = v)))
                .field(since(2, uint32("period", s -> s.period, (s, v) -> s.period = v)))
                .field(since(3, uint64("base_rtc", s -> s.baseRtc, (s, v) -> s.baseRtc = v)))
                .field(since(3, uint64("last_update", s -> s.lastUpdate, (s, v) -> s.lastUpdate = v)))
                .field(since(3, int64("offset", s -> s.offset, (s, v) -> s.offset = v)))
                .field(since(3, timer("update_timer", s -> s.updateTimer)))
                .field(since(3, uint64("next_alarm_time", s -> s.nextAlarmTime, (s, v) -> s.nextAlarmTime = v)))
                .subsection(VMStateDescription.builder("mc146818rtc/irq_reinject_on_ack_count", RtcState.class)
                        .version(1).minimumVersion(1)
                        .needed(s -> s.irqReinjectOnAckCount != 0)
                        .field(uint16("irq_reinject_on_ack_count", s -> s.irqReinjectOnAckCount,
                                (s, v) -> s.irqReinjectOnAckCount = v))
                        .build())
                .build();
    }
}
