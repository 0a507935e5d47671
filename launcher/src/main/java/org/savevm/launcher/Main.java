package org.savevm.launcher;

import java.nio.file.Path;

/**
 * {@code java -jar savevm.jar [--deploy DIR] [--feature NAME]... [--object SPEC]... [COMMAND ARGS...]}: starts Felix with the
 * embedded feature bundles. Without a command it hands the console to the Gogo shell and runs until the
 * framework stops; with one it runs that {@code SavevmCommand}, stops the framework and exits with the
 * command's status.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        LaunchOptions options;
        try {
            options = LaunchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Path jar = runningJar();
        if (jar != null) {
            // The migration demo re-launches this jar for its source and destination processes.
            System.setProperty("savevm.jar", jar.toString());
        }
        EmbeddedFramework fw;
        try {
            fw = EmbeddedFramework.start(options);
        } catch (IllegalArgumentException e) {
            // a machine option the machine bundle would refuse, an image it could not open (MachineOptionsCheck),
            // or a QMP monitor that cannot listen
            System.err.println("savevm: " + e.getMessage());
            System.exit(2);
            return;
        }
        Thread hook = new Thread(fw::stop, "savevm-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        int status = 0;
        for (String spec : options.objects()) {
            // QEMU's -object, made by the one place that parses objects: the object-add command
            status = OneShotCommand.run(fw.context(), "object-add", java.util.List.of(spec), System.out, System.err);
            if (status != 0) {
                fw.stop();
                System.exit(status);
                return;
            }
        }
        if (options.interactive() || options.monitorOnly()) {
            fw.awaitStop();
            status = 0;
        } else {
            DeployedBundles.await(fw.context(), options.deployDir());
            status = OneShotCommand.run(fw.context(), options.command().get(0),
                    options.command().subList(1, options.command().size()), System.out, System.err);
        }
        fw.stop();
        System.out.flush();
        System.exit(status);
    }

    private static Path runningJar() {
        try {
            Path p = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return p.toString().endsWith(".jar") ? p.toAbsolutePath() : null;
        } catch (Exception e) {
            return null;
        }
    }
}
