package org.savevm.api.machine;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The postcopy side of one incoming "ram" stream, for the destination's command handling: discards arrive
 * before POSTCOPY_LISTEN; after it, page records are placed one by one and XBZRLE is refused.
 */
@ProviderType
public interface RamPostcopyDestination {
    /** POSTCOPY_RAM_DISCARD: the range is stale; its pages become missing until they arrive. */
    void discard(PageRange range);

    /** POSTCOPY_LISTEN: from now on the loader runs in postcopy mode. */
    void listen();

    boolean listening();

    /** Pages still missing over all blocks. */
    long missingPages();
}
