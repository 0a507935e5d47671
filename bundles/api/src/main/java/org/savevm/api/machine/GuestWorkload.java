package org.savevm.api.machine;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The guest's activity: a generator thread writing into RAM through {@link RamBlock}, so that its pages
 * become dirty. Stopped at the switchover ({@link #pause}) and resumed on the destination or after a
 * failed migration. Auto-converge slows it with {@link #setThrottlePercent}.
 */
@ProviderType
public interface GuestWorkload {
    WorkloadSpec spec();

    /** Takes effect at the next write. */
    void configure(WorkloadSpec spec);

    /** Starts or resumes writing. */
    void resume();

    /** Stops writing; returns once no write is in progress (the guest is stopped). */
    void pause();

    boolean running();

    /** Share of time the guest is held back, 0 … 99 (QEMU's cpu_throttle_set). */
    void setThrottlePercent(int percent);

    int throttlePercent();

    /** Bytes written since the machine started. */
    long bytesWritten();
}
