package org.savevm.snapshot.internal;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

import org.savevm.api.block.BlockImage;
import org.savevm.image.internal.ImageServiceComponent;

/**
 * The process {@link SavevmKillTest} kills: a machine with a qcow2 disk whose guest runs between snapshots, taking
 * {@code savevm} after {@code savevm} (each over the one before it: delete, VM state, create) and {@code delvm} of
 * every other one, forever. Prints "ready" once the machine stands, and each finished step.
 */
public final class SavevmLoopMain {
    private SavevmLoopMain() {
    }

    public static void main(String[] args) throws Exception {
        Path disk = Path.of(args[0]);
        long ram = Long.parseLong(args[1]);
        BlockImage img = new ImageServiceComponent().open(disk, Optional.empty(), false);
        try (TestMachine m = new TestMachine(ram, 4L << 20, Clock.systemDefaultZone(), false, img)) {
            System.out.println("ready");
            System.out.flush();
            for (int i = 0;; i++) {
                m.runGuest(1L << 20);
                m.snapshots.save(Optional.of("s" + (i % 3)), true, Optional.empty(), Optional.empty());
                System.out.println("saved s" + (i % 3));
                if (i % 2 == 1) {
                    m.snapshots.delete("s" + ((i + 1) % 3), Optional.empty());
                    System.out.println("deleted s" + ((i + 1) % 3));
                }
                System.out.flush();
            }
        }
    }
}
