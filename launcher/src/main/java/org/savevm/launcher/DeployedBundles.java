package org.savevm.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * For one-shot commands: waits (bounded) until FileInstall has installed and started the jars that were
 * already in the deploy directory at start-up, so that {@code handlers} or {@code save-state} see them.
 */
final class DeployedBundles {
    private static final long MAX_WAIT_MS = 5_000;

    private DeployedBundles() {
    }

    static void await(BundleContext ctx, Path deployDir) throws IOException, InterruptedException {
        List<String> jars;
        try (Stream<Path> s = Files.list(deployDir)) {
            jars = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar")).toList();
        }
        long end = System.currentTimeMillis() + MAX_WAIT_MS;
        while (!jars.stream().allMatch(j -> started(ctx, j)) && System.currentTimeMillis() < end) {
            Thread.sleep(20);
        }
    }

    private static boolean started(BundleContext ctx, String jarName) {
        for (Bundle b : ctx.getBundles()) {
            String loc = b.getLocation();
            if (loc.startsWith("file:") && loc.endsWith("/" + jarName)) {
                boolean fragment = b.getHeaders().get("Fragment-Host") != null;
                return b.getState() == Bundle.ACTIVE || (fragment && b.getState() == Bundle.RESOLVED);
            }
        }
        return false;
    }
}
