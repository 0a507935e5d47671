package org.savevm.snapshot.internal.commands;

import java.io.IOException;
import java.io.PrintStream;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.savevm.snapshot.LiveSave;
import org.savevm.snapshot.SnapshotService;
import org.savevm.snapshot.internal.SnapshotDump;
import org.savevm.stream.Printable;

/**
 * The snapshot commands' bodies, in QEMU's HMP words (hmp_savevm, hmp_loadvm, hmp_delvm, hmp_info_snapshots:
 * errors as "Error: ...") and the QMP job forms snapshot-save / snapshot-load / snapshot-delete run to completion.
 */
final class SnapshotCommands {
    private SnapshotCommands() {
    }

    static int failed(PrintStream err, IOException e) {
        err.println("Error: " + Printable.escape(e.getMessage()));
        return 1;
    }

    static int usage(PrintStream err, String name, String message, String usage) {
        err.println(name + ": " + message);
        err.print(usage);
        return 2;
    }

    static int savevm(SnapshotService s, List<String> args, PrintStream out, PrintStream err, String usage)
            throws IOException {
        boolean live = args.contains("--live");
        args = args.stream().filter(a -> !a.equals("--live")).toList();
        if (args.size() > 1 || (args.size() == 1 && args.get(0).startsWith("--"))) {
            return usage(err, "savevm", "expected at most one NAME (and --live)", usage);
        }
        try {
            Optional<String> tag = args.isEmpty() ? Optional.empty() : Optional.of(args.get(0));
            if (live) {
                printLive(out, s.saveLive(tag, true, Optional.empty(), Optional.empty()));
            } else {
                s.save(tag, true, Optional.empty(), Optional.empty());
            }
        } catch (IOException e) {
            return failed(err, e);
        }
        return 0;
    }

    /** A live save's figures (QEMU's info migrate says "downtime" for the pause). */
    static void printLive(PrintStream out, LiveSave r) {
        out.printf(java.util.Locale.ROOT, "%s: guest paused %.3f ms (downtime), saved in %.3f ms, %d pages copied "
                + "before write%n", Printable.escape(r.tag()), r.guestPauseNanos() / 1e6, r.totalNanos() / 1e6,
                r.copiedPages());
    }

    static int loadvm(SnapshotService s, List<String> args, PrintStream out, PrintStream err, String usage) {
        if (args.size() != 1 || args.get(0).startsWith("--")) {
            return usage(err, "loadvm", "expected one NAME", usage);
        }
        try {
            for (String w : s.load(args.get(0), Optional.empty(), Optional.empty())) {
                err.println("loadvm: warning: " + Printable.escape(w));
            }
        } catch (IOException e) {
            return failed(err, e);
        }
        return 0;
    }

    static int delvm(SnapshotService s, List<String> args, PrintStream out, PrintStream err, String usage) {
        if (args.size() != 1 || args.get(0).startsWith("--")) {
            return usage(err, "delvm", "expected one NAME", usage);
        }
        try {
            s.delete(args.get(0), Optional.empty());
        } catch (IOException e) {
            return failed(err, e);
        }
        return 0;
    }

    static int info(SnapshotService s, List<String> args, PrintStream out, PrintStream err, String usage) {
        if (!args.isEmpty()) {
            return usage(err, "info-snapshots", "takes no arguments", usage);
        }
        try {
            out.print(new SnapshotDump(ZoneId.systemDefault()).format(s.list()));
        } catch (IOException e) {
            // hmp_info_snapshots reports the error, no "Error:" prefix needed in 7.2's error_report_err
            err.println(Printable.escape(e.getMessage()));
            return 1;
        }
        return 0;
    }

    /** The QMP job forms: 'S' snapshot-save, 'L' snapshot-load, 'D' snapshot-delete. */
    static int job(SnapshotService s, char kind, List<String> args, PrintStream err, String usage) {
        return job(s, kind, args, System.out, err, usage);
    }

    static int job(SnapshotService s, char kind, List<String> args, PrintStream out, PrintStream err, String usage) {
        String name = kind == 'S' ? "snapshot-save" : kind == 'L' ? "snapshot-load" : "snapshot-delete";
        boolean live = kind == 'S' && args.contains("--live");
        args = args.stream().filter(a -> !(kind == 'S' && a.equals("--live"))).toList();
        JobArgs j;
        try {
            j = JobArgs.parse(args);
            j.require(kind != 'D');
            if (kind == 'D' && j.vmstate.isPresent()) {
                throw new IllegalArgumentException("Parameter 'vmstate' is unexpected");
            }
        } catch (IllegalArgumentException e) {
            return usage(err, name, e.getMessage(), usage);
        }
        try {
            switch (kind) {
            case 'S' -> {
                if (live) {
                    printLive(out, s.saveLive(j.tag, false, j.vmstate, j.devices));
                } else {
                    s.save(j.tag, false, j.vmstate, j.devices);
                }
            }
            case 'L' -> {
                for (String w : s.load(j.tag.get(), j.vmstate, j.devices)) {
                    err.println(name + ": warning: " + Printable.escape(w));
                }
            }
            default -> s.delete(j.tag.get(), j.devices);
            }
        } catch (IOException e) {
            return failed(err, e);
        }
        return 0;
    }

    /** QMP job arguments: --tag, --vmstate, --devices A,B (each required where QMP requires it). */
    static final class JobArgs {
        Optional<String> tag = Optional.empty();
        Optional<String> vmstate = Optional.empty();
        Optional<List<String>> devices = Optional.empty();

        static JobArgs parse(List<String> args) {
            JobArgs j = new JobArgs();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (i + 1 >= args.size()) {
                    throw new IllegalArgumentException(a + (a.startsWith("--") ? " needs a value" : ": unexpected"));
                }
                String v = args.get(++i);
                switch (a) {
                case "--tag" -> j.tag = Optional.of(v);
                case "--vmstate" -> j.vmstate = Optional.of(v);
                case "--devices" -> j.devices = Optional.of(new ArrayList<>(Arrays.asList(v.split(",", -1))));
                default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            return j;
        }

        void require(boolean vmstateToo) {
            if (tag.isEmpty()) {
                throw new IllegalArgumentException("Parameter 'tag' is missing");
            }
            if (vmstateToo && vmstate.isEmpty()) {
                throw new IllegalArgumentException("Parameter 'vmstate' is missing");
            }
            if (devices.isEmpty()) {
                throw new IllegalArgumentException("Parameter 'devices' is missing");
            }
        }
    }
}
