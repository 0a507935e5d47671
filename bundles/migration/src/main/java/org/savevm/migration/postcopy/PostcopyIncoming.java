package org.savevm.migration.postcopy;

import java.io.IOException;

import org.savevm.api.MigrationContext;
import org.savevm.api.machine.PageFaultHandler;
import org.savevm.api.machine.RamBlock;

/** The destination's postcopy work on guest RAM: stale ranges, page faults, and the end of it. */
public interface PostcopyIncoming {
    PostcopyIncoming NONE = new PostcopyIncoming() {
    };

    /** QEMU's ram_pagesize_summary: the page sizes of every RAM block ORed together, as ADVISE carries it. */
    default long ramPageSizeSummary() {
        return RamBlock.TARGET_PAGE_SIZE;
    }

    /** POSTCOPY_RAM_DISCARD: the range is stale until its page arrives. */
    default void discard(MigrationContext context, String block, long start, long length) throws IOException {
        throw new IOException("POSTCOPY_RAM_DISCARD received, but no ram handler here does postcopy");
    }

    /** POSTCOPY_LISTEN: pages are placed one by one from now on; guest writes to missing ones fault. */
    default void listen(MigrationContext context, PageFaultHandler faults) throws IOException {
        throw new IOException("POSTCOPY_LISTEN received, but no ram handler here does postcopy");
    }

    /** The stream ended (loaded or failed): no more page requests. */
    default void finish() {
    }
}
