package org.savevm.migration.commands;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationOptions;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;

/** {@code incoming [-S] [-d] URI}: waits for a migration and loads it (QEMU's -incoming). */
@Component(service = SavevmCommand.class)
public final class IncomingCommand implements SavevmCommand {
    private final MigrationManager manager;

    @Activate
    public IncomingCommand(@Reference MigrationManager manager) {
        this.manager = manager;
    }

    @Override
    public String name() {
        return "incoming";
    }

    @Override
    public String summary() {
        return "wait for an incoming migration on tcp:HOST:PORT, unix:PATH, file:PATH or exec:CMD and load it";
    }

    @Override
    public String usage() {
        return "incoming [-S] [-d] [--timeout SECONDS] [--capability NAME]... [--parameter NAME=VALUE]... URI\n"
                + "  -S                 leave the guest stopped after the load (QEMU's -S)\n"
                + "  -d                 return at once; follow with info-migrate\n"
                + "  --timeout SECONDS  fail when no source connects within SECONDS, or a connected one sends\n"
                + "                     nothing for SECONDS (default: wait forever, as QEMU)\n"
                + "  tcp::PORT and tcp:0.0.0.0:PORT listen on every interface (as QEMU); tcp:127.0.0.1:PORT on\n"
                + "  loopback only. With --parameter tls-creds=ID (an object-add'ed tls-creds-x509 server) every\n"
                + "  channel is TLS; tls-authz=ID checks the client's certificate name\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        boolean stopped = false;
        boolean detach = false;
        long timeoutMillis = 0;
        String uri = null;
        MigrationOptions options = new MigrationOptions();
        try {
            for (int i = 0; i < args.size();) {
                String a = args.get(i);
                int next = options.take(args, i);
                if (next >= 0) {
                    i = next;
                } else if (a.equals("-S")) {
                    stopped = true;
                    i++;
                } else if (a.equals("-d")) {
                    detach = true;
                    i++;
                } else if (a.equals("--timeout")) {
                    timeoutMillis = timeoutMillis(MigrationOptions.value(args, i));
                    i += 2;
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
            err.println("incoming: " + e.getMessage());
            err.print(usage());
            return 2;
        }
        IncomingMigration m;
        try {
            m = manager.incoming(uri, !stopped, MigrationListener.NONE, timeoutMillis);
        } catch (IllegalArgumentException e) {
            err.println("incoming: " + e.getMessage());
            return 2;
        } catch (IllegalStateException | java.io.IOException e) {
            err.println("incoming: " + e.getMessage());
            return 1;
        }
        out.println("waiting for a migration on " + m.address());
        out.flush();
        if (detach) {
            return 0;
        }
        while (!m.await(1, TimeUnit.SECONDS)) {
            // Bounded waits in a loop: migrate-cancel or a failure ends it.
        }
        if (m.status() != MigrationStatus.COMPLETED) {
            err.println("incoming: migration failed: " + m.error());
            return 1;
        }
        out.println("migration loaded (" + m.info().streamBytes() + " bytes in " + m.info().totalTime() + " ms), guest "
                + (stopped ? "stopped" : "running"));
        // registered sections that received nothing (issue 13), as load-state says them
        m.loadReport().flatMap(org.savevm.api.LoadReport::warning)
                .ifPresent(w -> err.println("incoming: warning: " + org.savevm.stream.Printable.escape(w)));
        return 0;
    }

    /** SECONDS, possibly fractional (0.5), as milliseconds; at least 1 ms. */
    private static long timeoutMillis(String text) {
        double s;
        try {
            s = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--timeout expects seconds, not '" + text + "'");
        }
        if (!(s > 0) || s > 1e9) {
            throw new IllegalArgumentException("--timeout expects a positive number of seconds, not '" + text + "'");
        }
        return Math.max(1, Math.round(s * 1000));
    }
}
