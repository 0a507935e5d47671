package org.savevm.machine.internal.commands;

import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.machine.internal.MachineProfile;

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
        return "guest [status | pause | resume | rate SIZE_PER_SECOND | throttle PERCENT]";
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
                    w.configure(new WorkloadSpec(MachineProfile.parseSize(args.get(1)), s.writeSize(),
                            s.hotFraction(), s.locality(), s.zeroShare(), s.seed()));
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

    private int usageError(PrintStream err) {
        err.println("usage: " + usage());
        return 2;
    }
}
