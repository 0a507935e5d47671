package org.savevm.launcher;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Checks the machine options ({@code --ram}, {@code --disk}, {@code --disk-dirty-rate}) with the very parsers the
 * machine bundle uses ({@code org.savevm.api.block.DriveSpec} and {@code org.savevm.api.migration.Sizes} of the
 * installed api bundle), after the bundles are installed and before any starts, and that each disk's file exists:
 * a bad option is then one clear error naming it, where it used to be a machine component that failed to activate
 * (stack traces from the component runtime) and a command that did not exist. What only opening the image can
 * tell (a corrupt qcow2, a cache mode the file system refuses, an image another process writes) is checked by
 * {@link #openDrives} once the image service runs and before the machine bundle starts: each drive is opened the
 * way the machine will open it, through that service, and closed again (QEMU refuses a bad {@code -drive} before
 * the guest exists, too).
 */
final class MachineOptionsCheck {
    private static final String API_BUNDLE = "org.savevm.api";
    /** The bundle whose machine component opens the drives: it starts only after {@link #openDrives}. */
    static final String MACHINE_BUNDLE = "org.savevm.machine";
    private static final String IMAGE_SERVICE = "org.savevm.api.block.ImageService";
    /** How long the image service may take to appear once its bundle started (SCR registers it asynchronously). */
    private static final long IMAGE_SERVICE_WAIT_MS = 30_000;

    private MachineOptionsCheck() {
    }

    /**
     * Throws IllegalArgumentException with the option and the parser's message; returns the parsed drives (the api
     * bundle's {@code DriveSpec}s, for {@link #openDrives}), none without disks or without the api bundle.
     */
    static List<?> check(BundleContext ctx, Map<String, String> machine) {
        Bundle api = apiBundle(ctx);
        if (api == null) {
            return List.of(); // no machine without the api: nothing would read the options
        }
        String disks = machine.get(LaunchOptions.DISKS_PROPERTY);
        List<?> specs = List.of();
        if (disks != null) {
            specs = (List<?>) call(api, "org.savevm.api.block.DriveSpec", "parseAll", List.class,
                    disks.lines().toList(), "--disk");
            for (Object spec : specs) {
                Path file;
                try {
                    file = (Path) spec.getClass().getMethod("file").invoke(spec);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("DriveSpec.file(): " + e, e);
                }
                if (!Files.isRegularFile(file)) {
                    throw new IllegalArgumentException("--disk: " + file + ": no such image file");
                }
            }
        }
        check(api, machine.get(LaunchOptions.RAM_PROPERTY), "--ram");
        check(api, machine.get(LaunchOptions.DISK_RATE_PROPERTY), "--disk-dirty-rate");
        return specs;
    }

    /**
     * Opens and closes every {@code --disk} through the image service (same format, read-only flag and cache mode
     * as the machine's drives): what only the image can tell becomes one clear error naming the drive. Does
     * nothing without disks, without the api bundle or without an image service (the machine then says why).
     */
    static void openDrives(BundleContext ctx, List<?> specs) {
        Bundle api = apiBundle(ctx);
        if (specs.isEmpty() || api == null) {
            return;
        }
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(ctx, IMAGE_SERVICE, null);
        tracker.open();
        try {
            Object images = tracker.waitForService(IMAGE_SERVICE_WAIT_MS);
            if (images == null) {
                return;
            }
            Class<?> service = api.loadClass(IMAGE_SERVICE);
            Class<?> cacheMode = api.loadClass("org.savevm.api.block.CacheMode");
            Method open = service.getMethod("open", Path.class, Optional.class, boolean.class, cacheMode);
            for (Object spec : specs) {
                Class<?> type = spec.getClass();
                Object file = type.getMethod("file").invoke(spec);
                Object id = type.getMethod("id").invoke(spec);
                Object image;
                try {
                    image = open.invoke(images, file, type.getMethod("format").invoke(spec),
                            type.getMethod("readOnly").invoke(spec), type.getMethod("cache").invoke(spec));
                } catch (InvocationTargetException e) {
                    Throwable why = e.getCause();
                    throw new IllegalArgumentException("--disk " + file + " (drive '" + id + "'): "
                            + (why.getMessage() == null ? why.toString() : why.getMessage()), why);
                }
                ((AutoCloseable) image).close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("checking the --disk images: " + e, e);
        } finally {
            tracker.close();
        }
    }

    private static Bundle apiBundle(BundleContext ctx) {
        for (Bundle b : ctx.getBundles()) {
            if (API_BUNDLE.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }

    private static void check(Bundle api, String size, String option) {
        if (size != null) {
            call(api, "org.savevm.api.migration.Sizes", "parseBytes", String.class, size, option + " " + size);
        }
    }

    private static Object call(Bundle api, String type, String method, Class<?> param, Object arg, String what) {
        Method m;
        try {
            m = api.loadClass(type).getMethod(method, param);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new IllegalStateException("the api bundle has no " + type + "." + method + ": " + e, e);
        }
        try {
            return m.invoke(null, arg);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException bad) {
                String msg = bad.getMessage();
                throw new IllegalArgumentException(msg.startsWith("--") ? msg : what + ": " + msg, bad);
            }
            throw new IllegalStateException(type + "." + method + " failed: " + e.getCause(), e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
