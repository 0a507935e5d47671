package org.savevm.api.machine;

import java.io.IOException;

/**
 * The destination's multifd channels of one migration (QEMU's multifd_recv_state). Channel threads read
 * packets straight into guest RAM; the ram handler calls {@link #syncMain()} at every EOS of its section.
 * Reached through {@code MigrationContext.find(MultifdReceiver.class)}.
 */
public interface MultifdReceiver {
    /**
     * QEMU's multifd_recv_sync_main: waits until every channel has reached the SYNC packet that matches
     * this EOS (so every page sent before it is in guest RAM), then lets the channels go on.
     *
     * @throws IOException when a channel failed or the wait was interrupted
     */
    void syncMain() throws IOException;
}
