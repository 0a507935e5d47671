package org.savevm.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A timer on the {@link VirtualClock}. Its migrated form is QEMU's timer field: be64 expiry in virtual
 * nanoseconds, or -1 when not armed.
 */
@ProviderType
public interface GuestTimer {
    /** Expiry in virtual ns, or -1 when not armed. */
    long expireTimeNs();

    /** Arms the timer for {@code expireNs}, or disarms it when -1 (used by loads). */
    void setExpireTimeNs(long expireNs);

    default boolean armed() {
        return expireTimeNs() != -1;
    }

    default void cancel() {
        setExpireTimeNs(-1);
    }
}
