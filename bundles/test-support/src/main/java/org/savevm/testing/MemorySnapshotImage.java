package org.savevm.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.InternalSnapshots;
import org.savevm.api.block.SnapshotInfo;

/**
 * An in-memory image with internal snapshots (a qcow2 stand-in for tests of the snapshot commands): the disk is a
 * {@link MemoryBlockImage}, a snapshot keeps a copy of it and of its VM state. Ids are assigned as QEMU's qcow2
 * does (highest numeric id + 1). {@link #failCreate} and {@link #failDelete} inject errors.
 */
public final class MemorySnapshotImage extends ForwardingBlockImage implements InternalSnapshots {
    /** The VM state area holds at most this much (a test image, not a disk). */
    public static final int MAX_VM_STATE = 256 << 20;

    private record Snapshot(SnapshotInfo info, byte[] disk, byte[] vmState) {
    }

    private final MemoryBlockImage disk;
    private final List<Snapshot> snapshots = new ArrayList<>();
    private byte[] vmArea = new byte[0];
    private long vmAreaLength;
    private volatile boolean failCreate;
    private volatile boolean failDelete;

    public MemorySnapshotImage(String name, int size) {
        this(new MemoryBlockImage(name, size));
    }

    private MemorySnapshotImage(MemoryBlockImage disk) {
        super(disk);
        this.disk = disk;
    }

    /** The next create fails with an IOException (the table stays as it was). */
    public void failCreate(boolean fail) {
        failCreate = fail;
    }

    public void failDelete(boolean fail) {
        failDelete = fail;
    }

    public byte[] contents() {
        return disk.contents();
    }

    @Override
    public ImageFormat format() {
        return ImageFormat.QCOW2;
    }

    @Override
    public Optional<InternalSnapshots> internalSnapshots() {
        return Optional.of(this);
    }

    // --- InternalSnapshots

    @Override
    public synchronized List<SnapshotInfo> list() {
        return snapshots.stream().map(Snapshot::info).toList();
    }

    @Override
    public synchronized void writeVmState(long position, ByteBuffer src) throws IOException {
        int n = src.remaining();
        if (position < 0 || position + n > MAX_VM_STATE) {
            throw new IOException(path() + ": VM state write of " + n + " bytes at " + position + " past "
                    + MAX_VM_STATE);
        }
        if (position + n > vmArea.length) {
            vmArea = Arrays.copyOf(vmArea, (int) Math.max(position + n, Math.min(MAX_VM_STATE, vmArea.length * 2L)));
        }
        src.get(vmArea, (int) position, n);
        vmAreaLength = Math.max(vmAreaLength, position + n);
    }

    private Snapshot find(String idOrName) throws IOException {
        for (Snapshot s : snapshots) {
            if (s.info().id().equals(idOrName)) {
                return s;
            }
        }
        for (Snapshot s : snapshots) {
            if (s.info().name().equals(idOrName)) {
                return s;
            }
        }
        throw new IOException(path() + ": no snapshot '" + idOrName + "'");
    }

    @Override
    public synchronized int readVmState(String idOrName, long position, ByteBuffer dst) throws IOException {
        byte[] vm = find(idOrName).vmState();
        if (position >= vm.length) {
            return 0;
        }
        int n = (int) Math.min(dst.remaining(), vm.length - position);
        dst.put(vm, (int) position, n);
        return n;
    }

    @Override
    public synchronized SnapshotInfo create(String name, long vmStateSize, long dateSeconds, int dateNanos,
            long vmClockNanos, long icount) throws IOException {
        if (failCreate) {
            throw new IOException(path() + ": injected create failure");
        }
        if (vmStateSize > vmAreaLength) {
            throw new IOException(path() + ": VM state size " + vmStateSize + " but only " + vmAreaLength
                    + " bytes written");
        }
        long max = 0;
        for (Snapshot s : snapshots) {
            try {
                max = Math.max(max, Long.parseLong(s.info().id()));
            } catch (NumberFormatException e) {
                // not numeric: QEMU's find_new_snapshot_id skips it too
            }
        }
        SnapshotInfo info = new SnapshotInfo(Long.toString(max + 1), name, vmStateSize, dateSeconds, dateNanos,
                vmClockNanos, icount, size());
        snapshots.add(new Snapshot(info, disk.contents(), Arrays.copyOf(vmArea, (int) vmStateSize)));
        vmArea = new byte[0];
        vmAreaLength = 0;
        return info;
    }

    @Override
    public synchronized void revert(String idOrName) throws IOException {
        byte[] saved = find(idOrName).disk();
        disk.write(0, ByteBuffer.wrap(saved));
    }

    @Override
    public synchronized void delete(String idOrName) throws IOException {
        if (failDelete) {
            throw new IOException(path() + ": injected delete failure");
        }
        snapshots.remove(find(idOrName));
    }
}
