package org.savevm.timer.internal;

import org.savevm.api.GuestTimer;

/** A timer value with nothing behind it: holds the icount timers' expiry of a loaded stream. */
final class InertTimer implements GuestTimer {
    private long expire = -1;

    @Override
    public long expireTimeNs() {
        return expire;
    }

    @Override
    public void setExpireTimeNs(long expireNs) {
        this.expire = expireNs;
    }
}
