package org.savevm.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * Felix in a fresh temporary storage directory, provisioned with the bundles of the feature files embedded
 * in the launcher jar ({@code features/NAME.json}, bundles under {@code bundles/}). {@link #stop} stops the
 * framework (so DS deactivates every component) and removes the storage; it is safe to call twice, from
 * the main thread and from the shutdown hook.
 */
final class EmbeddedFramework {
    private static final long STOP_TIMEOUT_MS = 20_000;

    private final Framework framework;
    private final Path storage;

    private EmbeddedFramework(Framework framework, Path storage) {
        this.framework = framework;
        this.storage = storage;
    }

    static EmbeddedFramework start(LaunchOptions options) throws IOException, BundleException {
        Path storage = Files.createTempDirectory("savevm-felix-");
        Files.createDirectories(options.deployDir());
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put("felix.fileinstall.dir", options.deployDir().toString());
        config.put("felix.fileinstall.poll", "500");
        config.put("felix.fileinstall.noInitialDelay", "true");
        config.put("felix.fileinstall.log.level", "2");
        config.put("felix.log.level", "1");
        // Ctrl-D (end of input) in the interactive shell stops the framework, and so the launcher.
        config.put("gosh.args", "");
        config.putAll(options.frameworkProperties());
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, EmbeddedFramework.class.getClassLoader())
                .findFirst().orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"));
        Framework fw = factory.newFramework(config);
        fw.init();
        EmbeddedFramework ef = new EmbeddedFramework(fw, storage);
        try {
            fw.start();
            ef.install(options);
        } catch (IOException | BundleException | RuntimeException e) {
            ef.stop();
            throw e;
        }
        return ef;
    }

    private void install(LaunchOptions options) throws IOException, BundleException {
        BundleContext ctx = framework.getBundleContext();
        List<Bundle> installed = new ArrayList<>();
        // The console bundles start last, so the shell prompt appears only once every command is there.
        List<Bundle> console = new ArrayList<>();
        for (String name : options.features()) {
            Feature feature = loadFeature(name);
            for (Feature.BundleRef ref : feature.bundles()) {
                if (ref.interactiveOnly() && !options.interactive()) {
                    continue;
                }
                String resource = "/bundles/" + ref.fileName();
                try (InputStream in = EmbeddedFramework.class.getResourceAsStream(resource)) {
                    if (in == null) {
                        throw new IllegalStateException("feature " + feature.id() + " names " + ref
                                + " but the launcher jar has no " + resource);
                    }
                    Bundle b = ctx.installBundle("savevm:" + ref, in);
                    (ref.interactiveOnly() ? console : installed).add(b);
                }
            }
        }
        List<?> drives = MachineOptionsCheck.check(ctx, options.frameworkProperties());
        // the machine opens its drives when it activates: they are opened once before, where a refusal is one line
        List<Bundle> machine = installed.stream()
                .filter(b -> MachineOptionsCheck.MACHINE_BUNDLE.equals(b.getSymbolicName())).toList();
        List<Bundle> others = new ArrayList<>(installed);
        others.removeAll(machine);
        startAll(others);
        MachineOptionsCheck.openDrives(ctx, drives);
        startAll(machine);
        String qmp = options.frameworkProperties().get(LaunchOptions.QMP_PROPERTY);
        if (qmp != null) {
            awaitMonitor(ctx, qmp);
        }
        if (!console.isEmpty()) {
            CommandsSettled.await(ctx);
            startAll(console);
        }
    }

    /**
     * Waits until the QMP monitor listens, or says in one line why it cannot (its component publishes the reason
     * instead of failing with a stack trace): a client started after the launcher may connect at once.
     */
    private static void awaitMonitor(BundleContext ctx, String spec) {
        org.osgi.util.tracker.ServiceTracker<Object, Object> t;
        try {
            t = new org.osgi.util.tracker.ServiceTracker<>(ctx, ctx.createFilter(
                    "(&(objectClass=org.savevm.api.qmp.QmpEvents)(|(qmp.address=*)(qmp.error=*)))"), null);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        t.open();
        try {
            if (t.waitForService(MONITOR_WAIT_MILLIS) == null) {
                throw new IllegalArgumentException("--qmp " + spec + ": no QMP monitor started (is bundle"
                        + " org.savevm.qmp installed?)");
            }
            Object error = t.getServiceReference().getProperty("qmp.error");
            if (error != null) {
                throw new IllegalArgumentException(String.valueOf(error));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            t.close();
        }
    }

    private static final long MONITOR_WAIT_MILLIS = 30_000;

    private static void startAll(List<Bundle> bundles) throws BundleException {
        for (Bundle b : bundles) {
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                b.start(Bundle.START_ACTIVATION_POLICY);
            }
        }
    }

    static Feature loadFeature(String name) throws IOException {
        String resource = "/features/" + name + ".json";
        try (InputStream in = EmbeddedFramework.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no feature '" + name + "' (" + resource + " is not in the launcher jar)");
            }
            return Feature.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), resource);
        }
    }

    BundleContext context() {
        return framework.getBundleContext();
    }

    /** Blocks until something (Gogo's exit, stop 0, the shutdown hook) stops the framework. */
    void awaitStop() throws InterruptedException {
        framework.waitForStop(0);
    }

    synchronized void stop() {
        try {
            if ((framework.getState() & (Bundle.ACTIVE | Bundle.STARTING | Bundle.STOPPING)) != 0) {
                framework.stop();
            }
            framework.waitForStop(STOP_TIMEOUT_MS);
        } catch (BundleException | InterruptedException e) {
            System.err.println("savevm: stopping the framework: " + e);
        } finally {
            deleteTree(storage);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            System.err.println("savevm: could not remove " + dir + ": " + e.getMessage());
        }
    }
}
