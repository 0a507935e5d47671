package org.savevm.registry.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.StateHandler;

/** An immutable copy of the table for one save or load. */
final class FrozenView implements RegistryView {
    private final List<RegisteredSection> sections;
    private final Predicate<StateHandler> stillRegistered;

    FrozenView(List<RegisteredSection> sections, Predicate<StateHandler> stillRegistered) {
        this.sections = sections;
        this.stillRegistered = stillRegistered;
    }

    @Override
    public List<RegisteredSection> sections() {
        return sections;
    }

    /** QEMU's find_se: the exact idstr with instance or alias id; else the compat (plain) idstr. */
    @Override
    public Optional<RegisteredSection> find(String idstr, int instanceId) {
        for (RegisteredSection s : sections) {
            if (s.idstr().equals(idstr) && (s.instanceId() == instanceId || s.aliasId() == instanceId)) {
                return Optional.of(s);
            }
        }
        for (RegisteredSection s : sections) {
            if (idstr.equals(s.compatIdstr()) && (s.compatInstanceId() == instanceId || s.aliasId() == instanceId)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    @Override
    public List<String> blockers() {
        List<String> out = new ArrayList<>();
        for (RegisteredSection s : sections) {
            if (s.handler().registration().unmigratable()) {
                out.add("State blocked by non-migratable device '" + s.idstr() + "'");
            }
        }
        return out;
    }

    @Override
    public void checkPresent(RegisteredSection section) throws IOException {
        if (!stillRegistered.test(section.handler())) {
            throw new IOException("State handler " + section.describe() + " (bundle " + section.bundle()
                    + ") was unregistered during the save");
        }
    }
}
