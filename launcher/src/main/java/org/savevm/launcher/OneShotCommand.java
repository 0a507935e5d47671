package org.savevm.launcher;

import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.TreeMap;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Runs one {@code org.savevm.api.SavevmCommand} service by name. The launcher's class path has no savevm
 * API (the framework must own it), so the command is called through the interface loaded from the bundle
 * that registered it.
 */
final class OneShotCommand {
    static final String SERVICE = "org.savevm.api.SavevmCommand";
    /** How long to wait for a command that has not appeared yet. */
    private static final long WAIT_MS = 30_000;
    /** A missing command is declared unknown once the command set has not changed for this long. */
    private static final long SETTLE_MS = 2_000;

    private OneShotCommand() {
    }

    static int run(BundleContext ctx, String name, List<String> args, PrintStream out, PrintStream err) throws Exception {
        long start = System.currentTimeMillis();
        long lastChange = start;
        TreeMap<String, ServiceReference<?>> seen = new TreeMap<>();
        while (true) {
            TreeMap<String, ServiceReference<?>> now = commands(ctx);
            if (!now.keySet().equals(seen.keySet())) {
                lastChange = System.currentTimeMillis();
                seen = now;
            }
            ServiceReference<?> ref = now.get(name);
            if (ref != null) {
                return invoke(ctx, ref, args, out, err);
            }
            long t = System.currentTimeMillis();
            if (t - start > WAIT_MS || t - lastChange > SETTLE_MS) {
                err.println("savevm: unknown command '" + name + "'");
                err.println("commands: " + String.join(", ", seen.keySet()));
                return 2;
            }
            Thread.sleep(50);
        }
    }

    /** The registered commands by name. */
    private static TreeMap<String, ServiceReference<?>> commands(BundleContext ctx) throws Exception {
        TreeMap<String, ServiceReference<?>> byName = new TreeMap<>();
        ServiceReference<?>[] refs = ctx.getAllServiceReferences(SERVICE, null);
        if (refs == null) {
            return byName;
        }
        for (ServiceReference<?> ref : refs) {
            Object svc = ctx.getService(ref);
            if (svc == null) {
                continue;
            }
            try {
                Method m = commandInterface(ref).getMethod("name");
                byName.putIfAbsent(String.valueOf(m.invoke(svc)), ref);
            } finally {
                ctx.ungetService(ref);
            }
        }
        return byName;
    }

    private static Class<?> commandInterface(ServiceReference<?> ref) throws ClassNotFoundException {
        return ref.getBundle().loadClass(SERVICE);
    }

    private static int invoke(BundleContext ctx, ServiceReference<?> ref, List<String> args, PrintStream out,
            PrintStream err) throws Exception {
        Object svc = ctx.getService(ref);
        if (svc == null) {
            err.println("savevm: the command went away before it could run");
            return 1;
        }
        try {
            Method run = commandInterface(ref).getMethod("run", List.class, PrintStream.class, PrintStream.class);
            return (Integer) run.invoke(svc, args, out, err);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            err.println("savevm: " + cause);
            return 1;
        } finally {
            out.flush();
            err.flush();
            ctx.ungetService(ref);
        }
    }
}
