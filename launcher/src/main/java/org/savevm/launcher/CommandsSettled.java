package org.savevm.launcher;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * Waits (bounded) until the savevm commands are published to Gogo. SCR activates components on its own
 * thread, so right after the bundles start the shell may not know them yet; input typed (or piped) before
 * that would meet "Command not found".
 */
final class CommandsSettled {
    private static final String FILTER = "(osgi.command.scope=savevm)";
    private static final long MAX_WAIT_MS = 10_000;
    private static final long QUIET_MS = 300;

    private CommandsSettled() {
    }

    /** Returns once {@code savevm:help} exists and the number of savevm commands held still for a moment. */
    static void await(BundleContext ctx) {
        long start = System.currentTimeMillis();
        long changed = start;
        int last = -1;
        try {
            while (System.currentTimeMillis() - start < MAX_WAIT_MS) {
                ServiceReference<?>[] refs = ctx.getAllServiceReferences(null, FILTER);
                int n = refs == null ? 0 : refs.length;
                boolean help = ctx.getAllServiceReferences(null, "(&" + FILTER + "(osgi.command.function=help))") != null;
                long now = System.currentTimeMillis();
                if (n != last) {
                    last = n;
                    changed = now;
                } else if (help && now - changed >= QUIET_MS) {
                    return;
                }
                Thread.sleep(20);
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
