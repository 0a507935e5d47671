package org.savevm.demo;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/** Peak Java heap use of this process (sum of the heap pools' peaks), to show the demo's memory target holds. */
public final class HeapPeak {
    private HeapPeak() {
    }

    public static long bytes() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** The -Xmx in force. */
    public static long max() {
        return Runtime.getRuntime().maxMemory();
    }
}
