package org.savevm.shell.internal.gogo;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Function;
import org.savevm.api.SavevmCommand;

/**
 * One savevm command as a Gogo function. Gogo's CommandProxy calls {@link Function#execute} directly when
 * the service object is a Function, whatever the function name, so names with '-' (save-state) work
 * where a method-per-command object could not.
 */
final class GogoFunction implements Function {
    /** Session variable holding the last command's exit status, like a shell's {@code $?}. */
    static final String STATUS_VARIABLE = "savevm.status";

    private final SavevmCommand command;

    GogoFunction(SavevmCommand command) {
        this.command = command;
    }

    @Override
    public Object execute(CommandSession session, List<Object> arguments) throws Exception {
        List<String> args = new ArrayList<>(arguments.size());
        for (Object a : arguments) {
            args.add(String.valueOf(a));
        }
        PrintStream out = session.getConsole() != null ? session.getConsole() : System.out;
        int status = command.run(args, out, System.err);
        out.flush();
        session.put(STATUS_VARIABLE, status);
        return null;
    }
}
