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

/** {@code migrate [-d] URI}: live-migrates this machine (QEMU's migrate). */
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
        return "migrate [-d] [--capability NAME]... [--parameter NAME=VALUE]... URI\n"
                + "  -d                      return at once; follow with info-migrate, stop with migrate-cancel\n"
                + "  --capability NAME       switch a capability on first (xbzrle, compress, auto-converge, ...)\n"
                + "  --parameter NAME=VALUE  set a parameter first (max-bandwidth=0, downtime-limit=300, ...)\n"
                + "  TLS: --parameter tls-creds=ID names a tls-creds-x509 client made with --object / object-add;\n"
                + "       tls-hostname=NAME is what the server's certificate must carry (default: the URI's host)\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        boolean detach = false;
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
            options.capabilities().forEach(c -> manager.config().setCapability(c, true));
            options.parameters().forEach(manager.config()::setParameter);
        } catch (IllegalArgumentException e) {
            err.println("migrate: " + e.getMessage());
            err.print(usage());
            return 2;
        }
        OutgoingMigration m;
        try {
            m = manager.migrate(uri, MigrationListener.NONE);
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
