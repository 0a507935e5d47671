package org.savevm.core.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.savevm.api.DeviceStateHandler;
import org.savevm.api.MigrationPriority;
import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.StateHandler;
import org.savevm.api.StateRegistry;

/** A registry with a fixed list of sections in save order; handlers can be "unregistered" to test checkPresent. */
public final class FakeRegistry implements StateRegistry, RegistryView {
    private final List<RegisteredSection> sections = new ArrayList<>();
    private final Set<StateHandler> removed = ConcurrentHashMap.newKeySet();
    private final List<String> blockers = new ArrayList<>();

    public FakeRegistry add(StateHandler handler, int sectionId, String idstr, int instanceId, int version) {
        sections.add(new RegisteredSection(sectionId, idstr, instanceId, -1, 0, null, 0, version,
                MigrationPriority.DEFAULT, handler, "test"));
        return this;
    }

    public FakeRegistry add(StateHandler handler, int sectionId) {
        var r = handler.registration();
        return add(handler, sectionId, r.fullIdstr(), r.instanceId(), r.version());
    }

    public void unregister(StateHandler h) {
        removed.add(h);
    }

    public void block(String reason) {
        blockers.add(reason);
    }

    public List<DeviceStateHandler<?>> devices() {
        List<DeviceStateHandler<?>> out = new ArrayList<>();
        for (RegisteredSection s : sections) {
            if (s.handler() instanceof DeviceStateHandler<?> d) {
                out.add(d);
            }
        }
        return out;
    }

    @Override
    public RegistryView freeze() {
        return this;
    }

    @Override
    public List<RegisteredSection> sections() {
        return Collections.unmodifiableList(sections);
    }

    @Override
    public List<String> refused() {
        return List.of();
    }

    @Override
    public Optional<RegisteredSection> find(String idstr, int instanceId) {
        return sections.stream().filter(s -> s.idstr().equals(idstr) && s.instanceId() == instanceId).findFirst();
    }

    @Override
    public List<String> blockers() {
        return blockers;
    }

    @Override
    public void checkPresent(RegisteredSection section) throws IOException {
        if (removed.contains(section.handler())) {
            throw new IOException("State handler " + section.describe() + " was unregistered during the save");
        }
    }
}
