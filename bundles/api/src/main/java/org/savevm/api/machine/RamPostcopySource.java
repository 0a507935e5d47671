package org.savevm.api.machine;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The postcopy side of one outgoing "ram" stream, for the orchestrator's postcopy_start and return-path
 * reader (QEMU: ram_postcopy_send_discard_bitmap, ram_save_queue_pages).
 */
@ProviderType
public interface RamPostcopySource {
    /**
     * At the switch to postcopy, guest stopped: a last bitmap sync, then the ranges still to send, per
     * block in ram_list order — the content of the POSTCOPY_RAM_DISCARD commands. From now on no XBZRLE
     * page is sent, and requested pages go first.
     */
    List<PageRange> startPostcopy();

    /**
     * A REQ_PAGES / REQ_PAGES_ID request from the destination; thread-safe, served by the next iterate.
     * Throws IllegalArgumentException for an unknown block or a range past its end.
     */
    void requestPages(String idstr, long start, long length);

    /** True once {@link #startPostcopy} ran. */
    boolean inPostcopy();

    // ---- postcopy recovery (QEMU's ram_resume_prepare, ram_dirty_bitmap_reload) ----------------------

    /** The blocks whose received bitmap the destination is asked for (RECV_BITMAP), in ram_list order. */
    default List<String> recoveryBlocks() {
        return List.of();
    }

    /**
     * The size in bytes of {@code idstr}'s received bitmap on the wire: one bit per target page, rounded up
     * to whole 64-bit words; -1 for an unknown block.
     */
    default long receivedBitmapBytes(String idstr) {
        return -1;
    }

    /**
     * The destination's received bitmap of {@code idstr} (little-endian, {@link #receivedBitmapBytes} long):
     * every page it lacks becomes dirty again, every page it has is clean. Thread-safe (return-path thread).
     */
    default void reloadDirtyBitmap(String idstr, byte[] littleEndianBitmap) {
        throw new UnsupportedOperationException("postcopy recovery");
    }

    /** After the bitmaps: the page search starts over and the next record names its block. */
    default void resumePrepare() {
    }
}
