package org.savevm.registry.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.savevm.api.RegisteredSection;
import org.savevm.api.SectionRegistration;

/**
 * Resolves a set of accepted handlers into QEMU's ordered SaveStateEntry list. A pure function of the
 * handlers' identities: the same handlers give the same table whatever order they arrived in, so a
 * source and a destination that started bundles differently write and accept the same stream.
 *
 * <ul>
 * <li>Order: priority high to low, then order key, then instance id asked for, then arrival.</li>
 * <li>Auto instance ids: per idstr, the auto handlers in that order take successive ids above the highest
 * fixed id (QEMU's calculate_new_instance_id: one more than the highest).</li>
 * <li>Compat: a handler with a device path keeps its plain idstr as compat entry, whose instance id counts
 * the earlier handlers of the same plain idstr (calculate_compat_instance_id), or is the fixed id.</li>
 * </ul>
 */
final class SectionTable {
    static final Comparator<Candidate> SAVE_ORDER = Comparator
            .comparingInt((Candidate c) -> -c.registration().priority().value())
            .thenComparing(c -> c.registration().orderKey())
            .thenComparingInt(c -> c.registration().instanceId())
            .thenComparingLong(Candidate::arrival);

    private SectionTable() {
    }

    static List<RegisteredSection> resolve(List<Candidate> candidates) {
        List<Candidate> ordered = new ArrayList<>(candidates);
        ordered.sort(SAVE_ORDER);

        Map<String, Integer> highestFixed = new HashMap<>();
        for (Candidate c : ordered) {
            SectionRegistration r = c.registration();
            if (r.instanceId() != SectionRegistration.AUTO) {
                highestFixed.merge(r.fullIdstr(), r.instanceId(), Math::max);
            }
        }
        Map<String, Integer> nextAuto = new HashMap<>();
        Map<String, Integer> compatCount = new HashMap<>();
        List<RegisteredSection> out = new ArrayList<>(ordered.size());
        for (Candidate c : ordered) {
            SectionRegistration r = c.registration();
            String idstr = r.fullIdstr();
            int instance = r.instanceId();
            if (instance == SectionRegistration.AUTO) {
                int next = nextAuto.getOrDefault(idstr, highestFixed.getOrDefault(idstr, -1) + 1);
                instance = next;
                nextAuto.put(idstr, next + 1);
            }
            String compatIdstr = null;
            int compatInstance = -1;
            if (r.devicePath() != null && !r.devicePath().isEmpty()) {
                compatIdstr = r.idstr();
                int count = compatCount.merge(compatIdstr, 1, Integer::sum) - 1;
                compatInstance = r.instanceId() == SectionRegistration.AUTO ? count : r.instanceId();
            }
            out.add(new RegisteredSection(c.sectionId(), idstr, instance, r.aliasId(), r.requiredForVersion(),
                    compatIdstr, compatInstance, r.version(), r.priority(), c.handler(), c.bundle()));
        }
        return List.copyOf(out);
    }

    /** Two candidates the order cannot tell apart: only their arrival separates them. */
    static boolean ambiguous(Candidate a, Candidate b) {
        SectionRegistration x = a.registration();
        SectionRegistration y = b.registration();
        return x.priority() == y.priority() && x.orderKey().equals(y.orderKey()) && x.instanceId() == y.instanceId();
    }
}
