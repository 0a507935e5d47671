package org.savevm.api.migration;

import java.util.List;

/**
 * What the destination measured with capability postcopy-blocktime (QEMU's query-migrate
 * {@code postcopy-blocktime} and {@code postcopy-vcpu-blocktime}, in ms).
 *
 * @param total time during which every vCPU was waiting for a postcopy page at once
 * @param vcpu  per vCPU (guest thread that faulted, in the order of their first fault), its total wait
 */
public record PostcopyBlocktime(long total, List<Long> vcpu) {
    public PostcopyBlocktime {
        vcpu = List.copyOf(vcpu);
    }
}
