package org.savevm.image.qcow2;

import java.io.IOException;

/** Adds to the refcounts of a run of host clusters: the live {@link Refcounts} or a {@link Refcounts.Shadow}. */
@FunctionalInterface
interface RefcountUpdater {
    void update(long cluster, long count, long delta) throws IOException;
}
