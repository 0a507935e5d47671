package org.savevm.machine.internal.commands;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.api.migration.Sizes;

/** {@code guest}: shows or steers the workload that plays the guest. */
@Component(service = SavevmCommand.class)
public final class GuestCommand implements SavevmCommand {
    private final Machine machine;

    @Activate
    public GuestCommand(@Reference Machine machine) {
        this.machine = machine;
    }

    @Override
    public String name() {
        return "guest";
    }

    @Override
    public String summary() {
        return "show, pause, resume or tune the guest workload";
    }

    @Override
    public String usage() {
        return "guest [status | pause | resume | rate SIZE_PER_SECOND | throttle PERCENT | fill FILE]";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        GuestWorkload w = machine.workload();
        String cmd = args.isEmpty() ? "status" : args.get(0);
        try {
            switch (cmd) {
                case "status" -> {
                    if (args.size() > 1) {
                        return usageError(err);
                    }
                }
                case "pause" -> w.pause();
                case "resume" -> w.resume();
                case "rate" -> {
                    if (args.size() != 2) {
                        return usageError(err);
                    }
                    WorkloadSpec s = w.spec();
                    w.configure(new WorkloadSpec(Sizes.parseBytes(args.get(1)), s.writeSize(),
                            s.hotFraction(), s.locality(), s.zeroShare(), s.seed()));
                }
                case "fill" -> {
                    // pc.ram from a file, as QEMU's memory-backend-file mem-path=FILE (the snapshot bench)
                    if (args.size() != 2) {
                        return usageError(err);
                    }
                    RamBlock pc = machine.ramBlock("pc.ram").orElseThrow(() -> new IllegalArgumentException(
                            "guest fill: the machine has no pc.ram"));
                    try {
                        fill(pc, Path.of(args.get(1)));
                    } catch (IOException e) {
                        err.println("guest fill: " + e.getMessage());
                        return 1;
                    }
                }
                case "throttle" -> {
                    if (args.size() != 2) {
                        return usageError(err);
                    }
                    w.setThrottlePercent(Integer.parseInt(args.get(1)));
                }
                default -> {
                    return usageError(err);
                }
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        WorkloadSpec s = w.spec();
        out.printf("guest %s, rate %d B/s, throttle %d%%, %d bytes written%n", w.running() ? "running" : "paused",
                s.dirtyBytesPerSecond(), w.throttlePercent(), w.bytesWritten());
        return 0;
    }

    /** The file's first bytes into the block (at most its used length; the rest stays as it is). */
    private static void fill(RamBlock pc, Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(8 << 20);
            long at = 0;
            while (at < pc.usedLength()) {
                buf.clear().limit((int) Math.min(buf.capacity(), pc.usedLength() - at));
                int n = ch.read(buf, at);
                if (n <= 0) {
                    break;
                }
                pc.write(at, buf.array(), 0, n);
                at += n;
            }
        }
    }

    private int usageError(PrintStream err) {
        err.println("usage: " + usage());
        return 2;
    }
}
