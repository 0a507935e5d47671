package org.savevm.machine.internal.commands;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.BlockImage;
import org.savevm.api.machine.Machine;
import org.savevm.api.migration.Sizes;

/**
 * QEMU's HMP {@code info block}, {@code drive_del} and {@code block_resize} for the machine's drives: the last two
 * refused while a migration or a snapshot holds the drive, with QEMU's "Node 'X' is busy" error.
 */
public final class DriveCommands {
    private DriveCommands() {
    }

    private static int run(String usage, Action action, List<String> args, int arity, PrintStream err) {
        if (args.size() != arity) {
            err.println("usage: " + usage);
            return 2;
        }
        try {
            action.run();
            return 0;
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        } catch (IllegalStateException | IOException e) {
            err.println(e.getMessage());
            return 1;
        }
    }

    private interface Action {
        void run() throws IOException;
    }

    /** {@code drive-del NAME}. */
    @Component(service = SavevmCommand.class)
    public static final class DriveDel implements SavevmCommand {
        private final Machine machine;

        @Activate
        public DriveDel(@Reference Machine machine) {
            this.machine = machine;
        }

        @Override
        public String name() {
            return "drive-del";
        }

        @Override
        public String summary() {
            return "detach a drive from the machine (drive_del)";
        }

        @Override
        public String usage() {
            return "drive-del NAME";
        }

        @Override
        public int run(List<String> args, PrintStream out, PrintStream err) {
            return DriveCommands.run(usage(), () -> machine.detachDrive(args.get(0)), args, 1, err);
        }
    }

    /**
     * {@code info-block [NAME]}: QEMU's HMP {@code info block} for the machine's drives — the device name, the
     * image file, its format and read-only state, the cache mode, and the backing file with the chain's depth.
     * (No "Attached to" line: these drives belong to no emulated device.)
     */
    @Component(service = SavevmCommand.class)
    public static final class InfoBlock implements SavevmCommand {
        private final Machine machine;

        @Activate
        public InfoBlock(@Reference Machine machine) {
            this.machine = machine;
        }

        @Override
        public String name() {
            return "info-block";
        }

        @Override
        public String summary() {
            return "the machine's drives: image, format, cache mode, backing file (info block)";
        }

        @Override
        public String usage() {
            return "info-block [NAME]";
        }

        @Override
        public int run(List<String> args, PrintStream out, PrintStream err) {
            if (args.size() > 1) {
                err.println("usage: " + usage());
                return 2;
            }
            List<BlockDrive> drives = machine.drives().stream()
                    .filter(d -> args.isEmpty() || d.name().equals(args.get(0))).toList();
            if (!args.isEmpty() && drives.isEmpty()) {
                err.println("Device '" + args.get(0) + "' not found");
                return 1;
            }
            for (BlockDrive d : drives) {
                BlockImage image = d.image();
                out.printf("%s: %s (%s%s)%n", d.name(), image.path(), image.format().qemuName(),
                        d.readOnly() ? ", read-only" : "");
                out.printf("    Cache mode:       %s%n", image.cacheMode().describe());
                Optional<BlockImage> backing = image.backing();
                if (backing.isPresent()) {
                    int depth = 0;
                    for (Optional<BlockImage> b = backing; b.isPresent(); b = b.get().backing()) {
                        depth++;
                    }
                    out.printf("    Backing file:     %s (chain depth: %d)%n", backing.get().path(), depth);
                }
                out.println();
            }
            return 0;
        }
    }

    /** {@code block-resize NAME SIZE}. */
    @Component(service = SavevmCommand.class)
    public static final class BlockResize implements SavevmCommand {
        private final Machine machine;

        @Activate
        public BlockResize(@Reference Machine machine) {
            this.machine = machine;
        }

        @Override
        public String name() {
            return "block-resize";
        }

        @Override
        public String summary() {
            return "resize a drive (block_resize)";
        }

        @Override
        public String usage() {
            return "block-resize NAME SIZE";
        }

        @Override
        public int run(List<String> args, PrintStream out, PrintStream err) {
            return DriveCommands.run(usage(),
                    () -> machine.resizeDrive(args.get(0), Sizes.parseBytes(args.get(1))), args, 2, err);
        }
    }
}
