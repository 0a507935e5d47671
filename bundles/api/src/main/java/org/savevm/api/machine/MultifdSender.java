package org.savevm.api.machine;

import java.io.IOException;

/**
 * The source's multifd channels of one migration (QEMU's multifd_send_state). With the {@code multifd}
 * capability the ram handler sends zero pages in its section and hands every other page here; the pages
 * travel in packets on separate connections. Reached through
 * {@code MigrationContext.find(MultifdSender.class)}; used by the migration thread only.
 */
public interface MultifdSender {
    /**
     * QEMU's multifd_queue_page: adds a page to the packet being filled (at most 128 pages of one block),
     * handing the packet to a free channel when it is full or the block changes.
     */
    void queuePage(RamBlock block, long offset) throws IOException;

    /**
     * QEMU's multifd_send_sync_main, called right before each EOS of the ram section: the pending packet
     * goes out, then a SYNC packet on every channel; returns once every channel has written it.
     */
    void syncMain() throws IOException;

    /** Bytes written on the multifd channels so far, packet headers included (query-migrate's multifd-bytes). */
    long bytes();
}
