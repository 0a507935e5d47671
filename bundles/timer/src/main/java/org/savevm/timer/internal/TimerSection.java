package org.savevm.timer.internal;

import static org.savevm.api.vmstate.VMStateFields.int16;
import static org.savevm.api.vmstate.VMStateFields.timer;
import static org.savevm.api.vmstate.VMStateFields.unused;

import java.util.function.ObjLongConsumer;
import java.util.function.ToLongFunction;

import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateField;
import org.savevm.api.vmstate.VMStateFields;

/**
 * vmstate "timer" as QEMU 7.2 registers it in softmmu/cpu-timers.c: version 2, minimum 1;
 * cpu_ticks_offset, 8 unused bytes (the old dummy), cpu_clock_offset (since version 2), and the
 * "timer/icount" subsection (with its warp_timer, timers and shift subsections) needed only in icount
 * mode.
 */
final class TimerSection {
    static final String NAME = "timer";
    static final int VERSION = 2;

    private TimerSection() {
    }

    /** int64 with the state type spelled out, for chained calls where Java cannot infer it. */
    private static <T> VMStateField<T> int64(String name, ToLongFunction<T> get, ObjLongConsumer<T> set) {
        return VMStateFields.int64(name, get, set);
    }

    static VMStateDescription<TimersState> description() {
        VMStateDescription<TimersState> warp = VMStateDescription.builder("timer/icount/warp_timer", TimersState.class)
                .version(1).minimumVersion(1).needed(s -> false)
                .field(int64("vm_clock_warp_start", s -> s.vmClockWarpStart, (s, v) -> s.vmClockWarpStart = v))
                .field(timer("icount_warp_timer", s -> s.warpTimer))
                .build();
        VMStateDescription<TimersState> timers = VMStateDescription.builder("timer/icount/timers", TimersState.class)
                .version(1).minimumVersion(1).needed(s -> false)
                .field(timer("icount_rt_timer", s -> s.rtTimer))
                .field(timer("icount_vm_timer", s -> s.vmTimer))
                .build();
        VMStateDescription<TimersState> shift = VMStateDescription.builder("timer/icount/shift", TimersState.class)
                .version(2).minimumVersion(2).needed(s -> false)
                .field(int16("icount_time_shift", s -> s.icountTimeShift, (s, v) -> s.icountTimeShift = v))
                .field(int64("last_delta", s -> s.lastDelta, (s, v) -> s.lastDelta = v))
                .build();
        VMStateDescription<TimersState> icount = VMStateDescription.builder("timer/icount", TimersState.class)
                .version(1).minimumVersion(1).needed(s -> s.icount)
                .postLoad((s, v) -> s.icount = true)
                .field(int64("qemu_icount_bias", s -> s.icountBias, (s, v) -> s.icountBias = v))
                .field(int64("qemu_icount", s -> s.icountCount, (s, v) -> s.icountCount = v))
                .subsection(warp).subsection(timers).subsection(shift)
                .build();
        return VMStateDescription.builder(NAME, TimersState.class).version(VERSION).minimumVersion(1)
                .field(int64("cpu_ticks_offset", s -> s.cpuTicksOffset, (s, v) -> s.cpuTicksOffset = v))
                .field(unused(8))
                .field(TimerSection.<TimersState>int64("cpu_clock_offset", s -> s.cpuClockOffset,
                        (s, v) -> s.cpuClockOffset = v).since(2))
                .subsection(icount)
                .build();
    }
}
