package org.savevm.api;

import java.io.PrintStream;
import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A command of the savevm shell and one-shot CLI ({@code handlers}, {@code save-state}, {@code migrate}
 * ...). Any bundle may register one as a service; the shell bundle publishes each to Gogo under the
 * scope {@code savevm} and the launcher runs one directly for {@code java -jar savevm.jar NAME ARGS}.
 */
@ConsumerType
public interface SavevmCommand {
    /** The command name, e.g. {@code save-state}. Lower case, words joined by '-'. */
    String name();

    /** One line for {@code help}. */
    String summary();

    /** Usage text: arguments and options. */
    String usage();

    /**
     * Runs the command. Returns the process exit status for the one-shot CLI: 0 on success. Bad
     * arguments print a clear message to {@code err} and return 2; failures return 1.
     */
    int run(List<String> args, PrintStream out, PrintStream err) throws Exception;
}
