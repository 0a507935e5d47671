import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * A stand-in for launcher/target/savevm.jar, for running bench/ and the demo before (or without) the real
 * launcher: starts Felix with every jar in bundles/ next to this jar, runs the SavevmCommand named by the first
 * argument with the rest, and exits with its status. Sets savevm.jar to its own path, as the launcher does.
 */
public final class Launch {
    public static void main(String[] args) throws Exception {
        File jar = new File(Launch.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        System.setProperty("savevm.jar", jar.getPath());
        File dir = new File(jar.getParentFile(), "bundles");
        Map<String, String> cfg = new HashMap<>();
        File cache = Files.createTempDirectory("felix-cache").toFile();
        cfg.put(Constants.FRAMEWORK_STORAGE, cache.getPath());
        cfg.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        Framework fw = ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(cfg);
        fw.start();
        BundleContext ctx = fw.getBundleContext();
        List<Bundle> bundles = new ArrayList<>();
        for (File f : Objects.requireNonNull(dir.listFiles())) {
            if (f.getName().endsWith(".jar")) {
                bundles.add(ctx.installBundle(f.toURI().toString()));
            }
        }
        for (Bundle b : bundles) {
            try {
                b.start();
            } catch (BundleException e) {
                System.err.println("start " + b.getSymbolicName() + ": " + e.getMessage());
            }
        }
        String name = args.length == 0 ? "info-migrate" : args[0];
        Object cmd = null;
        long deadline = System.currentTimeMillis() + 15000;
        while (cmd == null && System.currentTimeMillis() < deadline) {
            ServiceReference<?>[] refs = ctx.getAllServiceReferences("org.savevm.api.SavevmCommand", null);
            for (ServiceReference<?> r : refs == null ? new ServiceReference<?>[0] : refs) {
                Object s = ctx.getService(r);
                if (s != null && name.equals(s.getClass().getMethod("name").invoke(s))) {
                    cmd = s;
                    break;
                }
            }
            if (cmd == null) {
                Thread.sleep(50);
            }
        }
        if (cmd == null) {
            System.err.println("no command " + name);
            System.exit(2);
        }
        Method run = cmd.getClass().getMethod("run", List.class, PrintStream.class, PrintStream.class);
        int rc = (Integer) run.invoke(cmd, Arrays.asList(args).subList(1, args.length), System.out, System.err);
        System.out.flush();
        System.exit(rc);
    }
}
