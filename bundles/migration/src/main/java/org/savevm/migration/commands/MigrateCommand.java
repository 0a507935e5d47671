package org.savevm.migration.commands;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationOptions;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;
import org.savevm.migration.progress.ProgressLine;

/** {@code migrate [-d] [-b] [-i] [-r] URI}: live-migrates this machine (QEMU's HMP migrate). */
@Component(service = SavevmCommand.class)
public final class MigrateCommand implements SavevmCommand {
    private static final long POLL_MILLIS = 200;

    private final MigrationManager manager;

    @Activate
    public MigrateCommand(@Reference MigrationManager manager) {
        this.manager = manager;
    }

    @Override
    public String name() {
        return "migrate";
    }

    @Override
    public String summary() {
        return "live-migrate the machine to tcp:HOST:PORT, unix:PATH, file:PATH or exec:CMD";
    }

    @Override
    public String usage() {
        return "migrate [-d] [-b] [-i] [-r] [--capability NAME]... [--parameter NAME=VALUE]... URI\n"
                + "  -d                      return at once; follow with info-migrate, stop with migrate-cancel\n"
                + "  -b, --blk               copy the disks too (capability block for this migration only)\n"
                + "  -i, --inc               copy only what each disk holds above its backing file, the base\n"
                + "                          being shared (block with block-incremental, this migration only)\n"
                + "  -r, --resume            resume a postcopy-paused migration on URI (the destination ran\n"
                + "                          migrate-recover URI first)\n"
                + "  --capability NAME       switch a capability on first (xbzrle, compress, auto-converge, ...)\n"
                + "  --parameter NAME=VALUE  set a parameter first (max-bandwidth=0, downtime-limit=300, ...)\n"
                + "  TLS: --parameter tls-creds=ID names a tls-creds-x509 client made with --object / object-add;\n"
                + "       tls-hostname=NAME is what the server's certificate must carry (default: the URI's host)\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        boolean detach = false;
        boolean resume = false;
        boolean blk = false;
        boolean inc = false;
        String uri = null;
        MigrationOptions options = new MigrationOptions();
        try {
            for (int i = 0; i < args.size();) {
                String a = args.get(i);
                int next = options.take(args, i);
                if (next >= 0) {
                    i = next;
                } else if (a.equals("-d") || a.equals("--detach")) {
                    detach = true;
                    i++;
                } else if (a.equals("-b") || a.equals("--blk")) {
                    blk = true;
                    i++;
                } else if (a.equals("-i") || a.equals("--inc")) {
                    inc = true;
                    i++;
                } else if (a.equals("-r") || a.equals("--resume")) {
                    resume = true;
                    i++;
                } else if (uri == null && !a.startsWith("-")) {
                    uri = a;
                    i++;
                } else {
                    throw new IllegalArgumentException("unexpected argument: " + a);
                }
            }
            if (uri == null) {
                throw new IllegalArgumentException("missing URI");
            }
            if (resume && (blk || inc)) {
                throw new IllegalArgumentException("-r resumes a paused postcopy migration and takes no -b or -i");
            }
            options.capabilities().forEach(c -> manager.config().setCapability(c, true));
            options.parameters().forEach(manager.config()::setParameter);
        } catch (IllegalArgumentException e) {
            err.println("migrate: " + e.getMessage());
            err.print(usage());
            return 2;
        }
        if (resume) {
            // QEMU's migrate -r: no new migration, the paused one reconnects
            try {
                manager.resume(uri);
            } catch (IllegalArgumentException | IllegalStateException e) {
                err.println("migrate: " + e.getMessage());
                return e instanceof IllegalArgumentException ? 2 : 1;
            }
            out.println("postcopy migration resuming on " + uri);
            return 0;
        }
        OutgoingMigration m;
        try {
            m = manager.migrate(uri, MigrationListener.NONE, blk, inc);
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("migrate: " + e.getMessage());
            return e instanceof IllegalArgumentException ? 2 : 1;
        }
        if (detach) {
            out.println("migration to " + uri + " started");
            return 0;
        }
        ProgressLine bar = ProgressLine.isTerminal() ? new ProgressLine(out, POLL_MILLIS) : null;
        while (!m.await(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
            if (bar != null) {
                MigrationInfo i = m.info();
                bar.update(InfoFormat.fraction(i), InfoFormat.progress(i));
            }
        }
        if (bar != null) {
            bar.finish();
        }
        MigrationInfo info = m.info();
        out.print(InfoFormat.hmp(info.toQmp()));
        if (info.status() != MigrationStatus.COMPLETED) {
            err.println("migrate: migration " + info.status().qemuName()
                    + (info.errorDesc() != null ? ": " + info.errorDesc() : ""));
            return 1;
        }
        return 0;
    }
}
