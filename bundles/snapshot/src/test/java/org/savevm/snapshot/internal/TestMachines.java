package org.savevm.snapshot.internal;

import org.savevm.api.block.BlockImage;
import org.savevm.snapshot.SnapshotService;

/** {@link TestMachine} for tests in other packages. */
public final class TestMachines {
    private TestMachines() {
    }

    public static AutoCloseable open(BlockImage... disks) {
        return new TestMachine(16L << 20, 0, disks);
    }

    public static SnapshotService service(AutoCloseable machine) {
        return ((TestMachine) machine).snapshots;
    }
}
