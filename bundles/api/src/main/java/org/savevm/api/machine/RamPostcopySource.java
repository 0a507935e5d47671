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
}
