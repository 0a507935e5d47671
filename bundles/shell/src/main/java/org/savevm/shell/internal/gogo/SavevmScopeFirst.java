package org.savevm.shell.internal.gogo;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.CommandSessionListener;
import org.osgi.service.component.annotations.Component;

/**
 * Puts the {@code savevm} scope first in every Gogo session's command search path ({@code SCOPE}), so an
 * unqualified name that several bundles provide, {@code help} above all, is savevm's; the others stay
 * reachable by their scope ({@code felix:help}).
 */
@Component
public final class SavevmScopeFirst implements CommandSessionListener {
    private static final String FIRST = GogoBridge.SCOPE + ":";

    @Override
    public void beforeExecute(CommandSession session, CharSequence command) {
        Object scope = session.get("SCOPE");
        String path = scope == null ? "*" : scope.toString();
        if (!path.startsWith(FIRST)) {
            session.put("SCOPE", FIRST + path);
        }
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Exception exception) {
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Object result) {
    }
}
