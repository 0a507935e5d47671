package org.savevm.api.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The internal snapshots of one image (qcow2's snapshot table; QEMU's bdrv_snapshot_* and the VM state area),
 * from {@link BlockImage#internalSnapshots()}. Every change is crash-safe: a failure or kill at any point leaves
 * an image that {@code qemu-img check} finds clean (leaks at most) and either the whole snapshot or none.
 */
@ProviderType
public interface InternalSnapshots {
    /** The snapshots in table order. */
    List<SnapshotInfo> list() throws IOException;

    /**
     * Writes VM state at {@code position} of the image's VM state area (stored after the guest-visible end,
     * where QEMU's savevm writes it before the snapshot is created).
     */
    void writeVmState(long position, ByteBuffer src) throws IOException;

    /** Reads the VM state of snapshot {@code idOrName} at {@code position}; fewer bytes past its VM state size. */
    int readVmState(String idOrName, long position, ByteBuffer dst) throws IOException;

    /**
     * Creates a snapshot of the current disk contents, owning the first {@code vmStateSize} bytes of the VM state
     * area written since the last create; assigns the next free id. The VM state leaves the active image.
     */
    SnapshotInfo create(String name, long vmStateSize, long dateSeconds, int dateNanos, long vmClockNanos,
            long icount) throws IOException;

    /** Reverts the disk contents to snapshot {@code idOrName} (QEMU's bdrv_snapshot_goto). */
    void revert(String idOrName) throws IOException;

    /** Deletes snapshot {@code idOrName}, freeing what only it referenced. */
    void delete(String idOrName) throws IOException;
}
