package org.savevm.registry.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.SectionRegistration;
import org.savevm.api.StateHandler;
import org.savevm.api.StateRegistry;

/**
 * The savevm registry: QEMU's SaveStateEntry list, fed by OSGi services instead of register_savevm_live
 * calls. Handlers come and go at any time; {@link #freeze()} gives a save or load a consistent view.
 */
@Component(service = StateRegistry.class)
public final class HandlerRegistry implements StateRegistry {
    private static final int MAX_REFUSED = 256;

    private final Logger log = System.getLogger(HandlerRegistry.class.getName());
    private final Map<StateHandler, Candidate> accepted = new IdentityHashMap<>();
    private final List<String> refused = new ArrayList<>();
    /** Handlers refused only because another holds their idstr and instance: retried when one leaves. */
    private final Map<StateHandler, String> waiting = new IdentityHashMap<>();
    /**
     * Section ids start at 1, never 0: QEMU's loader finds the handler of a PART/END section by the id its
     * START carried, and every handler that has not been loaded yet holds 0 there, so a live section with
     * id 0 would be routed to whichever handler comes first in QEMU's list (usually "timer").
     */
    private int nextSectionId = 1;
    private long arrivals;
    private List<RegisteredSection> table = List.of();

    public HandlerRegistry() {
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeLive")
    void addLive(LiveStateHandler handler, ServiceReference<LiveStateHandler> ref) {
        add(handler, bundleName(ref));
    }

    void removeLive(LiveStateHandler handler) {
        remove(handler);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeDevice")
    void addDevice(DeviceStateHandler<?> handler, ServiceReference<DeviceStateHandler<?>> ref) {
        add(handler, bundleName(ref));
    }

    void removeDevice(DeviceStateHandler<?> handler) {
        remove(handler);
    }

    private static String bundleName(ServiceReference<?> ref) {
        Bundle b = ref == null ? null : ref.getBundle();
        return b == null ? "?" : b.getSymbolicName();
    }

    /** Accepts a handler, or refuses it with a log line naming the bundles involved. Returns true if accepted. */
    public synchronized boolean add(StateHandler handler, String bundle) {
        if (accepted.containsKey(handler)) {
            return true;
        }
        SectionRegistration reg;
        try {
            reg = handler.registration();
        } catch (RuntimeException e) {
            return refuse("Refused state handler from bundle " + bundle + ": invalid registration: " + e.getMessage());
        }
        if (reg == null) {
            return refuse("Refused state handler from bundle " + bundle + ": no registration");
        }
        String invalid = reg.validate();
        if (invalid != null) {
            return refuse("Refused state handler " + reg + " from bundle " + bundle + ": " + invalid);
        }
        if (handler instanceof DeviceStateHandler<?> d && d.description() != null
                && d.description().version() != reg.version()) {
            return refuse("Refused state handler " + reg + " from bundle " + bundle + ": registration version "
                    + reg.version() + " differs from descriptor '" + d.description().name() + "' version "
                    + d.description().version());
        }
        for (Candidate other : accepted.values()) {
            SectionRegistration o = other.registration();
            if (reg.instanceId() != SectionRegistration.AUTO && o.instanceId() == reg.instanceId()
                    && o.fullIdstr().equals(reg.fullIdstr())) {
                waiting.put(handler, bundle);
                return refuse("Refused state handler '" + reg.fullIdstr() + "' instance " + reg.instanceId()
                        + " from bundle " + bundle + ": that idstr and instance are already registered by bundle "
                        + other.bundle());
            }
        }
        Candidate c = new Candidate(handler, reg, bundle, nextSectionId++, arrivals++);
        for (Candidate other : accepted.values()) {
            if (SectionTable.ambiguous(other, c)) {
                log.log(Level.WARNING, "State handlers '" + reg.fullIdstr() + "' from bundles " + other.bundle()
                        + " and " + bundle + " share priority and order key '" + reg.orderKey()
                        + "': their order (and auto instance ids) falls back to arrival order; give them order keys");
            }
        }
        waiting.remove(handler);
        accepted.put(handler, c);
        table = SectionTable.resolve(new ArrayList<>(accepted.values()));
        return true;
    }

    private boolean refuse(String message) {
        log.log(Level.ERROR, message);
        if (refused.size() == MAX_REFUSED) {
            refused.remove(0);
        }
        refused.add(message);
        return false;
    }

    public synchronized void remove(StateHandler handler) {
        waiting.remove(handler);
        if (accepted.remove(handler) != null) {
            table = SectionTable.resolve(new ArrayList<>(accepted.values()));
            for (Map.Entry<StateHandler, String> w : new ArrayList<>(waiting.entrySet())) {
                add(w.getKey(), w.getValue());
            }
        }
    }

    private synchronized boolean isRegistered(StateHandler handler) {
        return accepted.containsKey(handler);
    }

    @Override
    public synchronized RegistryView freeze() {
        return new FrozenView(table, this::isRegistered);
    }

    @Override
    public synchronized List<RegisteredSection> sections() {
        return table;
    }

    @Override
    public synchronized List<String> refused() {
        return List.copyOf(refused);
    }
}
