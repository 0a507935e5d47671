package org.savevm.registry.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.savevm.api.MigrationPriority;
import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.SectionRegistration;
import org.savevm.api.StateHandler;

class HandlerRegistryTest {

    /** A handler that is nothing but its registration. */
    record Fake(SectionRegistration registration) implements StateHandler {
    }

    static Fake fake(SectionRegistration.Builder b) {
        return new Fake(b.build());
    }

    static List<String> order(HandlerRegistry r) {
        return r.sections().stream().map(s -> s.idstr() + "#" + s.instanceId()).collect(Collectors.toList());
    }

    @Test
    void higherPriorityFirstThenOrderKey() {
        HandlerRegistry r = new HandlerRegistry();
        r.add(fake(SectionRegistration.builder("serial")), "b1");
        r.add(fake(SectionRegistration.builder("PIIX3").priority(MigrationPriority.PCI_BUS)), "b2");
        r.add(fake(SectionRegistration.builder("apic")), "b3");
        r.add(fake(SectionRegistration.builder("gicv3").priority(MigrationPriority.GICV3)), "b4");
        assertEquals(List.of("gicv3#0", "PIIX3#0", "apic#0", "serial#0"), order(r));
    }

    @Test
    void sectionIdsAreGivenOnArrivalAndKept() {
        HandlerRegistry r = new HandlerRegistry();
        Fake a = fake(SectionRegistration.builder("b-dev"));
        Fake b = fake(SectionRegistration.builder("a-dev"));
        r.add(a, "x");
        r.add(b, "x");
        RegisteredSection sa = r.sections().stream().filter(s -> s.handler() == a).findFirst().orElseThrow();
        RegisteredSection sb = r.sections().stream().filter(s -> s.handler() == b).findFirst().orElseThrow();
        assertEquals(1, sa.sectionId(), "ids start at 1: QEMU routes PART/END with id 0 to unloaded handlers");
        assertEquals(2, sb.sectionId());
        r.remove(b);
        r.add(fake(SectionRegistration.builder("c-dev")), "x");
        assertEquals(1, r.sections().get(0).sectionId(), "a keeps its id");
        assertEquals(3, r.sections().get(1).sectionId(), "ids are never reused");
    }

    @Test
    void autoInstanceIdsFollowOrderKeyNotArrival() {
        Fake first = fake(SectionRegistration.builder("serial").autoInstance().orderKey("isa-0x3f8"));
        Fake second = fake(SectionRegistration.builder("serial").autoInstance().orderKey("isa-0x2f8"));
        for (List<Fake> arrival : List.of(List.of(first, second), List.of(second, first))) {
            HandlerRegistry r = new HandlerRegistry();
            arrival.forEach(h -> r.add(h, "dev"));
            RegistryView v = r.freeze();
            assertSame(second, v.find("serial", 0).orElseThrow().handler());
            assertSame(first, v.find("serial", 1).orElseThrow().handler());
        }
    }

    @Test
    void autoInstanceGoesAboveTheHighestFixedOne() {
        HandlerRegistry r = new HandlerRegistry();
        r.add(fake(SectionRegistration.builder("cpu").instanceId(2)), "b");
        Fake auto = fake(SectionRegistration.builder("cpu").autoInstance());
        r.add(auto, "b");
        assertEquals(3, r.freeze().find("cpu", 3).orElseThrow().instanceId());
        assertSame(auto, r.freeze().find("cpu", 3).orElseThrow().handler());
    }

    @Test
    void instanceIdsShiftDeterministicallyWhenAHandlerArrives() {
        HandlerRegistry r = new HandlerRegistry();
        Fake b = fake(SectionRegistration.builder("example").autoInstance().orderKey("b"));
        r.add(b, "x");
        RegistryView before = r.freeze();
        assertSame(b, before.find("example", 0).orElseThrow().handler());
        Fake a = fake(SectionRegistration.builder("example").autoInstance().orderKey("a"));
        r.add(a, "y");
        assertSame(b, before.find("example", 0).orElseThrow().handler(), "a frozen view does not change");
        assertSame(a, r.freeze().find("example", 0).orElseThrow().handler());
        assertSame(b, r.freeze().find("example", 1).orElseThrow().handler());
    }

    @Test
    void devicePathGivesFullIdstrAndACompatEntry() {
        HandlerRegistry r = new HandlerRegistry();
        Fake e0 = fake(SectionRegistration.builder("e1000").devicePath("0000:00:03.0").autoInstance());
        Fake e1 = fake(SectionRegistration.builder("e1000").devicePath("0000:00:04.0").autoInstance());
        r.add(e1, "net");
        r.add(e0, "net");
        RegistryView v = r.freeze();
        assertSame(e0, v.find("0000:00:03.0/e1000", 0).orElseThrow().handler());
        assertSame(e1, v.find("0000:00:04.0/e1000", 0).orElseThrow().handler());
        // streams from before device paths name the plain idstr with instances 0 and 1
        assertSame(e0, v.find("e1000", 0).orElseThrow().handler());
        assertSame(e1, v.find("e1000", 1).orElseThrow().handler());
        assertTrue(v.find("e1000", 2).isEmpty());
        RegisteredSection s = v.find("e1000", 1).orElseThrow();
        assertEquals("e1000", s.compatIdstr());
        assertEquals(1, s.compatInstanceId());
    }

    @Test
    void aliasIdMatchesOnLoad() {
        HandlerRegistry r = new HandlerRegistry();
        Fake h = fake(SectionRegistration.builder("i8259").instanceId(0x20).alias(0, 2).version(3));
        r.add(h, "pic");
        RegistryView v = r.freeze();
        assertSame(h, v.find("i8259", 0x20).orElseThrow().handler());
        assertSame(h, v.find("i8259", 0).orElseThrow().handler());
        assertTrue(v.find("i8259", 1).isEmpty());
        assertTrue(v.find("i8259x", 0).isEmpty());
    }

    @Test
    void unmigratableHandlerBlocks() {
        HandlerRegistry r = new HandlerRegistry();
        r.add(fake(SectionRegistration.builder("ivshmem").unmigratable(true)), "b");
        r.add(fake(SectionRegistration.builder("serial")), "b");
        assertEquals(List.of("State blocked by non-migratable device 'ivshmem'"), r.freeze().blockers());
    }

    @Test
    void duplicateIdstrAndInstanceRefusedNamingBothBundles() {
        HandlerRegistry r = new HandlerRegistry();
        Fake first = fake(SectionRegistration.builder("rtc").instanceId(0));
        Fake dup = fake(SectionRegistration.builder("rtc").instanceId(0));
        assertTrue(r.add(first, "bundle.one"));
        assertFalse(r.add(dup, "bundle.two"));
        assertEquals(1, r.sections().size());
        String msg = r.refused().get(0);
        assertTrue(msg.contains("bundle.one") && msg.contains("bundle.two") && msg.contains("'rtc'"), msg);
        // once the holder leaves, the refused one takes its place
        r.remove(first);
        assertSame(dup, r.freeze().find("rtc", 0).orElseThrow().handler());
    }

    @Test
    void idstrOver255BytesRefused() {
        HandlerRegistry r = new HandlerRegistry();
        String longName = String.join("", Collections.nCopies(252, "x"));
        assertFalse(r.add(fake(SectionRegistration.builder("dev").devicePath(longName)), "b"));
        assertTrue(r.refused().get(0).contains("longer than 255 bytes"), r.refused().get(0));
        assertTrue(r.sections().isEmpty());
    }

    @Test
    void registrationThatThrowsIsRefused() {
        HandlerRegistry r = new HandlerRegistry();
        StateHandler bad = () -> SectionRegistration.builder("weird").priority(MigrationPriority.ofValue(9)).build();
        assertFalse(r.add(bad, "odd.bundle"));
        assertTrue(r.refused().get(0).contains("unknown migration priority 9"), r.refused().get(0));
        assertTrue(r.refused().get(0).contains("odd.bundle"));
    }

    @Test
    void handlerLeavingMidSaveFailsTheSaveWithItsName() throws IOException {
        HandlerRegistry r = new HandlerRegistry();
        Fake h = fake(SectionRegistration.builder("serial"));
        r.add(h, "dev.serial");
        RegistryView v = r.freeze();
        RegisteredSection s = v.sections().get(0);
        v.checkPresent(s);
        r.remove(h);
        IOException e = assertThrows(IOException.class, () -> v.checkPresent(s));
        assertTrue(e.getMessage().contains("'serial' instance 0") && e.getMessage().contains("dev.serial"),
                e.getMessage());
        // and a handler arriving mid-save is not in the frozen view
        r.add(fake(SectionRegistration.builder("late")), "x");
        assertEquals(1, v.sections().size());
        assertTrue(v.find("late", 0).isEmpty());
    }

    @Test
    void everyArrivalOrderGivesTheSameTable() {
        List<Fake> hs = new ArrayList<>();
        hs.add(fake(SectionRegistration.builder("ram").version(4).orderKey("0-ram")));
        hs.add(fake(SectionRegistration.builder("block").orderKey("0-block")));
        hs.add(fake(SectionRegistration.builder("serial").autoInstance().orderKey("isa-0x3f8")));
        hs.add(fake(SectionRegistration.builder("serial").autoInstance().orderKey("isa-0x2f8")));
        hs.add(fake(SectionRegistration.builder("PIIX3").devicePath("0000:00:01.0").priority(MigrationPriority.PCI_BUS)));
        hs.add(fake(SectionRegistration.builder("timer")));
        List<String> expected = null;
        for (int rot = 0; rot < hs.size(); rot++) {
            for (boolean reverse : new boolean[] {false, true}) {
                List<Fake> arrival = new ArrayList<>(hs);
                Collections.rotate(arrival, rot);
                if (reverse) {
                    Collections.reverse(arrival);
                }
                HandlerRegistry r = new HandlerRegistry();
                arrival.forEach(h -> r.add(h, "b"));
                List<String> got = r.sections().stream()
                        .map(s -> s.idstr() + "#" + s.instanceId() + "@" + hs.indexOf(s.handler()))
                        .collect(Collectors.toList());
                if (expected == null) {
                    expected = got;
                }
                assertEquals(expected, got);
            }
        }
        assertEquals(List.of("0000:00:01.0/PIIX3#0@4", "block#0@1", "ram#0@0", "serial#0@3", "serial#1@2",
                "timer#0@5"), expected);
    }
}
