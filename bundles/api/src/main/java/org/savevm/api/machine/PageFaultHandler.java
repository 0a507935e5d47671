package org.savevm.api.machine;

import org.osgi.annotation.versioning.ConsumerType;

/** Told when the guest touches a page that postcopy has not brought yet (QEMU: a userfault). */
@ConsumerType
@FunctionalInterface
public interface PageFaultHandler {
    /**
     * The guest wants the page at {@code offset} of block {@code idstr}. Called on the guest's thread, which
     * then waits for the page: ask the source for it (REQ_PAGES) and return quickly.
     */
    void pageFault(String idstr, long offset);

    /**
     * The page the calling guest thread faulted on arrived after {@code waitedNanos} (QEMU's
     * mark_postcopy_blocktime_end): what postcopy-blocktime adds up. Called on the guest's thread.
     */
    default void pageArrived(String idstr, long offset, long waitedNanos) {
    }
}
