package org.savevm.launcher;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * Checks the machine options ({@code --ram}, {@code --disk}, {@code --disk-dirty-rate}) with the very parsers the
 * machine bundle uses ({@code org.savevm.api.block.DriveSpec} and {@code org.savevm.api.migration.Sizes} of the
 * installed api bundle), after the bundles are installed and before any starts, and that each disk's file exists:
 * a bad option is then one clear error naming it, where it used to be a machine component that failed to activate
 * (stack traces from the component runtime) and a command that did not exist. What only opening the image can
 * tell (a corrupt qcow2, cache=none without O_DIRECT) still fails the machine's activation.
 */
final class MachineOptionsCheck {
    private static final String API_BUNDLE = "org.savevm.api";

    private MachineOptionsCheck() {
    }

    /** Throws IllegalArgumentException with the option and the parser's message. */
    static void check(BundleContext ctx, Map<String, String> machine) {
        Bundle api = null;
        for (Bundle b : ctx.getBundles()) {
            if (API_BUNDLE.equals(b.getSymbolicName())) {
                api = b;
            }
        }
        if (api == null) {
            return; // no machine without the api: nothing would read the options
        }
        String disks = machine.get(LaunchOptions.DISKS_PROPERTY);
        if (disks != null) {
            List<?> specs = (List<?>) call(api, "org.savevm.api.block.DriveSpec", "parseAll", List.class,
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
