package org.savevm.api.machine;

import org.osgi.annotation.versioning.ProviderType;

/** A {@link RamBlock#freeze() frozen view} of a RAM block: its content at one instant while the guest goes on. */
@ProviderType
public interface FrozenRamBlock extends RamBlock, AutoCloseable {
    /** Pages whose old content a guest write had to copy aside so far (the copy-before-write work). */
    long copiedPages();

    /** Ends the write protection and drops the copies; the view must not be read afterwards. */
    @Override
    void close();
}
