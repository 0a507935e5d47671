package org.savevm.machine.internal.commands;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.api.machine.Machine;
import org.savevm.machine.internal.MachineProfile;

/**
 * QEMU's HMP {@code drive_del} and {@code block_resize} for the machine's drives: both refused while a migration
 * or a snapshot holds the drive, with QEMU's "Node 'X' is busy" error.
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
                    () -> machine.resizeDrive(args.get(0), MachineProfile.parseSize(args.get(1))), args, 2, err);
        }
    }
}
