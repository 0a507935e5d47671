package org.savevm.api;

/**
 * What a live handler still has to send (QEMU's save_live_pending): bytes that must go before the
 * switchover, and bytes that may also follow it in postcopy.
 */
public record PendingBytes(long mustPrecopy, long canPostcopy) {
    public static final PendingBytes NONE = new PendingBytes(0, 0);

    public long total() {
        return mustPrecopy + canPostcopy;
    }

    public PendingBytes plus(PendingBytes o) {
        return new PendingBytes(mustPrecopy + o.mustPrecopy, canPostcopy + o.canPostcopy);
    }
}
