package org.savevm.api.block;

import java.util.Locale;

/**
 * How an image's writes meet the host's page cache and its flushes: QEMU's {@code -drive cache=} modes, which
 * combine {@code cache.direct} (bypass the page cache, {@code O_DIRECT}) and {@code cache.no-flush} with the
 * write-through of the guest's view. Reads return the same bytes in every mode.
 */
public enum CacheMode {
    /** QEMU's default: writes go to the page cache; a flush (the guest's, or the image's close) syncs the file. */
    WRITEBACK(false, false, false),
    /** Large aligned writes bypass the page cache ({@code O_DIRECT}); flushes sync. */
    NONE(true, false, false),
    /** Writes go through the page cache and each is synced before it returns. */
    WRITETHROUGH(false, true, false),
    /** Writes bypass the page cache and each is synced before it returns. */
    DIRECTSYNC(true, true, false),
    /** As writeback, but flushes do nothing: fast, and lost on a host crash (QEMU's cache=unsafe). */
    UNSAFE(false, false, true);

    private final boolean direct;
    private final boolean syncEveryWrite;
    private final boolean ignoreFlush;

    CacheMode(boolean direct, boolean syncEveryWrite, boolean ignoreFlush) {
        this.direct = direct;
        this.syncEveryWrite = syncEveryWrite;
        this.ignoreFlush = ignoreFlush;
    }

    /** Whether writes bypass the host's page cache (QEMU's cache.direct=on). */
    public boolean direct() {
        return direct;
    }

    /** Whether every write is synced before it completes. */
    public boolean syncEveryWrite() {
        return syncEveryWrite;
    }

    /** Whether flushes are skipped (QEMU's cache.no-flush=on). */
    public boolean ignoreFlush() {
        return ignoreFlush;
    }

    /**
     * The mode as QEMU's HMP {@code info block} shows it: writeback or writethrough, then {@code , direct} and
     * {@code , ignore flushes} where they apply (cache=none is "writeback, direct").
     */
    public String describe() {
        return (syncEveryWrite ? "writethrough" : "writeback") + (direct ? ", direct" : "")
                + (ignoreFlush ? ", ignore flushes" : "");
    }

    /** QEMU's name: {@code writeback}, {@code none}, {@code writethrough}, {@code directsync}, {@code unsafe}. */
    public String qemuName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses QEMU's name; the error names the accepted ones. */
    public static CacheMode parse(String name) {
        for (CacheMode m : values()) {
            if (m.qemuName().equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown cache mode '" + name
                + "' (writeback, none, writethrough, directsync, unsafe)");
    }
}
