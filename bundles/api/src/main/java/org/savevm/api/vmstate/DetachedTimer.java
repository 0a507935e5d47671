package org.savevm.api.vmstate;

import org.savevm.api.GuestTimer;

/**
 * A timer that only records its expiry and never fires: the timer of a detached state copy (a load
 * decodes into it; the device arms its real timer on commit) or of a device running without a clock.
 */
public final class DetachedTimer implements GuestTimer {
    private volatile long expireNs;

    public DetachedTimer() {
        this(-1);
    }

    public DetachedTimer(long expireNs) {
        this.expireNs = expireNs;
    }

    /** A detached copy of {@code t}'s expiry (-1 for a null timer). */
    public static DetachedTimer copyOf(GuestTimer t) {
        return new DetachedTimer(t == null ? -1 : t.expireTimeNs());
    }

    @Override
    public long expireTimeNs() {
        return expireNs;
    }

    @Override
    public void setExpireTimeNs(long expireNs) {
        this.expireNs = expireNs;
    }

    @Override
    public String toString() {
        return expireNs == -1 ? "timer(off)" : "timer(" + expireNs + ")";
    }
}
