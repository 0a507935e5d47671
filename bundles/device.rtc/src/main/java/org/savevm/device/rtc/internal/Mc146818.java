package org.savevm.device.rtc.internal;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.function.LongSupplier;

/**
 * The MC146818 register model over an {@link RtcState}: the index/data ports, time registers in BCD
 * or binary, the periodic interrupt (register A rate, PIE) and the once-a-second update (UIE).
 * Time runs on the supplied clock in ns; with no clock ({@code -1}) the time stands still.
 */
public final class Mc146818 {
    static final int REG_A = 0x0a;
    static final int REG_B = 0x0b;
    static final int REG_C = 0x0c;
    static final int REG_D = 0x0d;
    static final int REG_A_UIP = 0x80;
    static final int REG_B_SET = 0x80;
    static final int REG_B_PIE = 0x40;
    static final int REG_B_AIE = 0x20;
    static final int REG_B_UIE = 0x10;
    static final int REG_B_DM = 0x04;
    static final int REG_B_24H = 0x02;
    static final int REG_C_IRQF = 0x80;
    static final int REG_C_PF = 0x40;
    static final int REG_C_UF = 0x10;
    static final long NS = 1_000_000_000L;
    private static final int RTC_CLOCK_RATE = 32768;

    private final LongSupplier nowNs;

    public Mc146818(LongSupplier nowNs) {
        this.nowNs = nowNs;
    }

    /** Power-on state: the given guest time, register A/B/D defaults, timers off. */
    public void reset(RtcState s, long epochSeconds) {
        java.util.Arrays.fill(s.cmosData, (byte) 0);
        s.cmosData[REG_A] = 0x26;
        s.cmosData[REG_B] = REG_B_24H;
        s.cmosData[REG_D] = (byte) 0x80;
        s.cmosIndex = 0;
        s.baseRtc = epochSeconds;
        long now = nowNs.getAsLong();
        s.lastUpdate = Math.max(now, 0);
        s.offset = 0;
        s.periodicTimer.cancel();
        s.updateTimer.cancel();
        s.nextPeriodicTime = 0;
        s.period = 0;
        writeTimeRegisters(s, epochSeconds);
    }

    public void writeIndex(RtcState s, int value) {
        s.cmosIndex = value & 0x7f;
    }

    public int readData(RtcState s) {
        int index = s.cmosIndex;
        switch (index) {
        case 0, 2, 4, 6, 7, 8, 9 -> {
            if ((s.cmos(REG_B) & REG_B_SET) == 0) {
                writeTimeRegisters(s, guestSeconds(s));
            }
            return s.cmos(index);
        }
        case REG_C -> {
            int v = s.cmos(REG_C);
            s.cmosData[REG_C] = 0; // reading C acknowledges every flag
            return v;
        }
        default -> {
            return s.cmos(index);
        }
        }
    }

    public void writeData(RtcState s, int value) {
        int index = s.cmosIndex;
        value &= 0xff;
        switch (index) {
        case REG_A -> {
            s.cmosData[REG_A] = (byte) ((value & ~REG_A_UIP) | (s.cmos(REG_A) & REG_A_UIP));
            updatePeriodic(s);
        }
        case REG_B -> {
            boolean wasSet = (s.cmos(REG_B) & REG_B_SET) != 0;
            if (!wasSet && (value & REG_B_SET) != 0) {
                updateTime(s); // freeze the time base at this instant
            }
            s.cmosData[REG_B] = (byte) value;
            if (wasSet && (value & REG_B_SET) == 0) {
                setTimeFromRegisters(s);
            }
            updatePeriodic(s);
            updateUpdateTimer(s);
        }
        case REG_C, REG_D -> {
            // read-only
        }
        default -> s.cmosData[index] = (byte) value;
        }
    }

    /** The guest time in epoch seconds now. */
    public long guestSeconds(RtcState s) {
        return Math.floorDiv(guestNs(s), NS);
    }

    private long guestNs(RtcState s) {
        long now = nowNs.getAsLong();
        long elapsed = now < 0 ? 0 : now - s.lastUpdate;
        return s.baseRtc * NS + elapsed + s.offset;
    }

    /** QEMU's rtc_update_time: folds the elapsed clock time into base_rtc/offset. */
    public void updateTime(RtcState s) {
        long now = nowNs.getAsLong();
        if (now < 0 || (s.cmos(REG_B) & REG_B_SET) != 0) {
            return;
        }
        long g = guestNs(s);
        s.baseRtc = Math.floorDiv(g, NS);
        s.offset = Math.floorMod(g, NS);
        s.lastUpdate = now;
    }

    /** QEMU's rtc_periodic_clock_ticks: the period in 32 kHz ticks, 0 when PIE is off. */
    static int periodicTicks(RtcState s) {
        if ((s.cmos(REG_B) & REG_B_PIE) == 0) {
            return 0;
        }
        int code = s.cmos(REG_A) & 0x0f;
        if (code == 0) {
            return 0;
        }
        if (code <= 2) {
            code += 7;
        }
        return 1 << (code - 1);
    }

    static long ticksToNs(int ticks) {
        return ticks * NS / RTC_CLOCK_RATE;
    }

    /** Re-arms or stops the periodic timer after register A or B changed. */
    void updatePeriodic(RtcState s) {
        s.period = periodicTicks(s);
        long now = nowNs.getAsLong();
        if (s.period == 0 || now < 0) {
            s.periodicTimer.cancel();
            return;
        }
        s.nextPeriodicTime = now + ticksToNs(s.period);
        s.periodicTimer.setExpireTimeNs(s.nextPeriodicTime);
    }

    /** The periodic timer fired: PF (and IRQF), next period. */
    public void periodicTick(RtcState s) {
        s.cmosData[REG_C] = (byte) (s.cmos(REG_C) | REG_C_PF | REG_C_IRQF);
        if (s.period != 0) {
            s.nextPeriodicTime += ticksToNs(s.period);
            s.periodicTimer.setExpireTimeNs(s.nextPeriodicTime);
        }
    }

    void updateUpdateTimer(RtcState s) {
        long now = nowNs.getAsLong();
        if ((s.cmos(REG_B) & REG_B_UIE) == 0 || (s.cmos(REG_B) & REG_B_SET) != 0 || now < 0) {
            s.updateTimer.cancel();
            return;
        }
        long g = guestNs(s);
        s.updateTimer.setExpireTimeNs(now + (NS - Math.floorMod(g, NS)));
    }

    /** The update timer fired: one more second, UF (and IRQF), next second. */
    public void updateTick(RtcState s) {
        s.cmosData[REG_C] = (byte) (s.cmos(REG_C) | REG_C_UF | REG_C_IRQF);
        updateUpdateTimer(s);
    }

    private int toReg(RtcState s, int v) {
        return (s.cmos(REG_B) & REG_B_DM) != 0 ? v : ((v / 10) << 4) | (v % 10);
    }

    private int fromReg(RtcState s, int v) {
        return (s.cmos(REG_B) & REG_B_DM) != 0 ? v : ((v >> 4) * 10) + (v & 0x0f);
    }

    private void writeTimeRegisters(RtcState s, long epochSeconds) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(epochSeconds, 0, ZoneOffset.UTC);
        s.cmosData[0] = (byte) toReg(s, t.getSecond());
        s.cmosData[2] = (byte) toReg(s, t.getMinute());
        int hour = t.getHour();
        if ((s.cmos(REG_B) & REG_B_24H) != 0) {
            s.cmosData[4] = (byte) toReg(s, hour);
        } else {
            int h12 = hour % 12 == 0 ? 12 : hour % 12;
            s.cmosData[4] = (byte) (toReg(s, h12) | (hour >= 12 ? 0x80 : 0));
        }
        s.cmosData[6] = (byte) toReg(s, t.getDayOfWeek().getValue() % 7 + 1);
        s.cmosData[7] = (byte) toReg(s, t.getDayOfMonth());
        s.cmosData[8] = (byte) toReg(s, t.getMonthValue());
        s.cmosData[9] = (byte) toReg(s, t.getYear() % 100);
    }

    void setTimeFromRegisters(RtcState s) {
        int hourReg = s.cmos(4);
        int hour;
        if ((s.cmos(REG_B) & REG_B_24H) != 0) {
            hour = fromReg(s, hourReg);
        } else {
            hour = fromReg(s, hourReg & 0x7f) % 12 + ((hourReg & 0x80) != 0 ? 12 : 0);
        }
        LocalDateTime t = LocalDateTime.of(2000 + fromReg(s, s.cmos(9)), clamp(fromReg(s, s.cmos(8)), 1, 12),
                clamp(fromReg(s, s.cmos(7)), 1, 28), clamp(hour, 0, 23), clamp(fromReg(s, s.cmos(2)), 0, 59),
                clamp(fromReg(s, s.cmos(0)), 0, 59));
        int day = fromReg(s, s.cmos(7));
        t = t.plusDays(Math.max(0, day - t.getDayOfMonth())); // days past 28 without invalid dates
        s.baseRtc = t.toEpochSecond(ZoneOffset.UTC);
        s.offset = 0;
        long now = nowNs.getAsLong();
        if (now >= 0) {
            s.lastUpdate = now;
        }
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
