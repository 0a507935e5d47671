package org.savevm.shell.internal.gogo;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.IdentityHashMap;
import java.util.Map;

import org.apache.felix.service.command.Function;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.savevm.api.SavevmCommand;

/**
 * Publishes every {@link SavevmCommand} service to Gogo as {@code savevm:NAME} (scope {@code savevm}), and
 * withdraws it when the command's bundle goes away.
 */
@Component(immediate = true)
public final class GogoBridge {
    static final String SCOPE = "savevm";

    private final BundleContext context;
    private final Map<SavevmCommand, ServiceRegistration<Function>> published = new IdentityHashMap<>();
    private boolean active = true;

    @Activate
    public GogoBridge(BundleContext context) {
        this.context = context;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeCommand")
    void addCommand(SavevmCommand command) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("osgi.command.scope", SCOPE);
        props.put("osgi.command.function", new String[] {command.name()});
        ServiceRegistration<Function> reg = context.registerService(Function.class, new GogoFunction(command), props);
        ServiceRegistration<Function> old;
        synchronized (this) {
            if (!active) {
                old = reg;
            } else {
                old = published.put(command, reg);
            }
        }
        unregister(old);
    }

    void removeCommand(SavevmCommand command) {
        ServiceRegistration<Function> reg;
        synchronized (this) {
            reg = published.remove(command);
        }
        unregister(reg);
    }

    @Deactivate
    void deactivate() {
        Map<SavevmCommand, ServiceRegistration<Function>> all;
        synchronized (this) {
            active = false;
            all = new IdentityHashMap<>(published);
            published.clear();
        }
        all.values().forEach(GogoBridge::unregister);
    }

    private static void unregister(ServiceRegistration<?> reg) {
        if (reg == null) {
            return;
        }
        try {
            reg.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the bundle is stopping and the framework has removed it already
        }
    }
}
