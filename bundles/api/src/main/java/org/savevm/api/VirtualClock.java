package org.savevm.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The guest's virtual clock (QEMU_CLOCK_VIRTUAL): nanoseconds that advance only while the guest runs.
 * Provided by the timer bundle, whose "timer" section carries the clock across a migration so that
 * restored timers fire at the same virtual time.
 */
@ProviderType
public interface VirtualClock {
    /** Virtual nanoseconds now. */
    long nowNs();

    /** True while the guest runs (the clock advances). */
    boolean running();

    /** Stops the clock (guest paused), as before the switchover. */
    void stop();

    /** Starts the clock again (guest resumed). */
    void start();

    /** A new, unarmed timer on this clock that calls {@code callback} when it expires. */
    GuestTimer newTimer(Runnable callback);
}
