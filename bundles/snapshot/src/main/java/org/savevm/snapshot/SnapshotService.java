package org.savevm.snapshot;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Internal snapshots of the machine, as QEMU 7.2's savevm.c takes them (save_snapshot, load_snapshot,
 * delete_snapshot). {@code devices} names the drives to act on (QMP's {@code devices}); empty means every drive
 * that is writable (QEMU's default set). {@code vmstate} names the drive that holds the VM state (QMP's
 * {@code vmstate}); empty means the first snapshot-capable one. One operation runs at a time.
 */
@ProviderType
public interface SnapshotService {
    /**
     * Stops the guest, writes the VM state (the whole save sequence of a migration) into the VM state drive,
     * creates snapshot {@code tag} on every drive and resumes the guest if it ran. Without a tag the name is
     * {@code vm-YYYYMMDDhhmmss} (local time). With {@code overwrite} an older snapshot of that name is deleted
     * first (HMP savevm); without it such a snapshot is refused (QMP snapshot-save). Returns the tag used.
     */
    String save(Optional<String> tag, boolean overwrite, Optional<String> vmstate, Optional<List<String>> devices)
            throws IOException;

    /**
     * Stops the guest, reverts every drive to snapshot {@code tag} (id or name), loads its VM state and resumes
     * the guest if it ran. Returns the load's warnings (handlers that got no state).
     */
    /**
     * {@link #save} with the guest running (beyond QEMU: its background-snapshot for a snapshot): the guest stops
     * only while the device state is taken, RAM is write-protected (copy-before-write) and the disks' writes are
     * held, then runs on while RAM is written as of that instant; the guest's disk writes wait until the snapshot is
     * created. The VM state is an ordinary stream that QEMU's loadvm loads.
     */
    LiveSave saveLive(Optional<String> tag, boolean overwrite, Optional<String> vmstate,
            Optional<List<String>> devices) throws IOException;

    List<String> load(String tag, Optional<String> vmstate, Optional<List<String>> devices) throws IOException;

    /** Deletes snapshot {@code tag} (id or name) on every drive that has it. */
    void delete(String tag, Optional<List<String>> devices) throws IOException;

    /** What {@code info snapshots} lists. */
    SnapshotListing list() throws IOException;
}
