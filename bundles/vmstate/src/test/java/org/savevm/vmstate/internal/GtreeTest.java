package org.savevm.vmstate.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.savevm.api.vmstate.VMStateFields.gtree;
import static org.savevm.api.vmstate.VMStateFields.gtreeDirectKey;
import static org.savevm.api.vmstate.VMStateFields.uint32;
import static org.savevm.api.vmstate.VMStateFields.uint64;
import static org.savevm.vmstate.internal.Bytes.hex;
import static org.savevm.vmstate.internal.Bytes.load;
import static org.savevm.vmstate.internal.Bytes.save;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateException;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * The GTree info (test-vmstate.c's gtree cases: a keyed tree of interval → mapping inside a domain,
 * and a direct-key tree of domains inside an iommu), with vectors written from the wire-format facts.
 */
class GtreeTest {
    static final class Interval {
        long low, high;

        Interval() {
        }

        Interval(long low, long high) {
            this.low = low;
            this.high = high;
        }
    }

    static final class Mapping {
        long phys;
        int flags;

        Mapping() {
        }

        Mapping(long phys, int flags) {
            this.phys = phys;
            this.flags = flags;
        }
    }

    static final class Domain {
        int id;
        // the GTree's compare function: intervals ordered by their start
        final SortedMap<Interval, Mapping> mappings =
                new TreeMap<>(Comparator.comparing((Interval i) -> i.low, Long::compareUnsigned));
    }

    static final class Iommu {
        int id;
        final SortedMap<Long, Domain> domains = new TreeMap<>(Long::compareUnsigned);
    }

    static final VMStateDescription<Interval> INTERVAL = VMStateDescription.builder("interval", Interval.class)
            .version(1).minimumVersion(1)
            .field(uint64("low", i -> i.low, (i, v) -> i.low = v))
            .field(uint64("high", i -> i.high, (i, v) -> i.high = v)).build();

    static final VMStateDescription<Mapping> MAPPING = VMStateDescription.builder("mapping", Mapping.class)
            .version(1).minimumVersion(1).qemuStructSize(16)
            .field(uint64("phys", m -> m.phys, (m, v) -> m.phys = v))
            .field(uint32("flags", m -> m.flags, (m, v) -> m.flags = v)).build();

    static final VMStateDescription<Domain> DOMAIN = VMStateDescription.builder("domain", Domain.class)
            .version(1).minimumVersion(1)
            .field(uint32("id", d -> d.id, (d, v) -> d.id = v))
            .field(gtree("mappings", 1, INTERVAL, Interval::new, MAPPING, Mapping::new, d -> d.mappings)).build();

    static final VMStateDescription<Iommu> IOMMU = VMStateDescription.builder("iommu", Iommu.class)
            .version(1).minimumVersion(1)
            .field(uint32("id", i -> i.id, (i, v) -> i.id = v))
            .field(gtreeDirectKey("domains", 1, DOMAIN, Domain::new, i -> i.domains)).build();

    /** Domain 9: two mappings, inserted high first; the tree emits them in key order. */
    static final String DOMAIN_BYTES = "00000009 00000002"
            + " 01 0000000000002000 0000000000002fff 000000000000b000 00000004"
            + " 01 0000000000008000 0000000000008fff 00000000000c0000 00000005"
            + " 00";

    static Domain domain9() {
        Domain d = new Domain();
        d.id = 9;
        d.mappings.put(new Interval(0x8000, 0x8fff), new Mapping(0xc0000, 5));
        d.mappings.put(new Interval(0x2000, 0x2fff), new Mapping(0xb000, 4));
        return d;
    }

    /** Iommu 2: domains 12 (one mapping) and 3 (empty), inserted 12 first; keys are be64. */
    static final String IOMMU_BYTES = "00000002 00000002"
            + " 01 0000000000000003 00000003 00000000 00"
            + " 01 000000000000000c 0000000c 00000001"
            + "   01 0000000000100000 00000000001fffff 0000000007000000 00000001 00"
            + " 00";

    static Iommu iommu2() {
        Iommu io = new Iommu();
        io.id = 2;
        Domain twelve = new Domain();
        twelve.id = 12;
        twelve.mappings.put(new Interval(0x100000, 0x1fffff), new Mapping(0x7000000, 1));
        io.domains.put(12L, twelve);
        Domain three = new Domain();
        three.id = 3;
        io.domains.put(3L, three);
        return io;
    }

    static String describe(Domain d) {
        List<String> parts = new ArrayList<>();
        d.mappings.forEach((k, v) -> parts.add(Long.toHexString(k.low) + "-" + Long.toHexString(k.high) + "="
                + Long.toHexString(v.phys) + "/" + v.flags));
        return d.id + ":" + parts;
    }

    @Test
    void keyedTreeSavesInKeyOrder() throws IOException {
        assertEquals(hex(hex(DOMAIN_BYTES)), hex(save(DOMAIN, domain9())));
    }

    @Test
    void keyedTreeLoads() throws IOException {
        Domain d = new Domain();
        long used = load(DOMAIN, d, 1, hex(DOMAIN_BYTES));
        assertEquals(hex(DOMAIN_BYTES).length, used);
        assertEquals("9:[2000-2fff=b000/4, 8000-8fff=c0000/5]", describe(d));
    }

    @Test
    void loadPutsIntoTheExistingTree() throws IOException {
        Domain d = new Domain();
        d.mappings.put(new Interval(0x2000, 0x2fff), new Mapping(1, 1));
        d.mappings.put(new Interval(0x100, 0x1ff), new Mapping(2, 2));
        load(DOMAIN, d, 1, hex(DOMAIN_BYTES));
        assertEquals("9:[100-1ff=2/2, 2000-2fff=b000/4, 8000-8fff=c0000/5]", describe(d));
    }

    @Test
    void directKeyTreeSavesAndLoads() throws IOException {
        assertEquals(hex(hex(IOMMU_BYTES)), hex(save(IOMMU, iommu2())));
        Iommu io = new Iommu();
        load(IOMMU, io, 1, hex(IOMMU_BYTES));
        assertEquals(2, io.id);
        assertEquals(List.of(3L, 12L), new ArrayList<>(io.domains.keySet()));
        assertEquals("3:[]", describe(io.domains.get(3L)));
        assertEquals("12:[100000-1fffff=7000000/1]", describe(io.domains.get(12L)));
    }

    @Test
    void emptyTreeIsCountAndEndMarker() throws IOException {
        Domain d = new Domain();
        d.id = 1;
        assertEquals("00000001" + "00000000" + "00", hex(save(DOMAIN, d)));
        Domain back = new Domain();
        load(DOMAIN, back, 1, hex("00000001 00000000 00"));
        assertTrue(back.mappings.isEmpty());
    }

    @Test
    void fewerNodesThanCountedFailsAtTheEndMarker() {
        String bytes = DOMAIN_BYTES.replaceFirst("00000002", "00000003");
        VMStateException e = assertThrows(VMStateException.class, () -> load(DOMAIN, new Domain(), 1, hex(bytes)));
        assertEquals("mappings", e.field());
        assertTrue(e.getMessage().contains("inconsistent stream when loading the gtree: 2 nodes, count said 3"),
                e.getMessage());
        assertEquals(hex(bytes).length - 1, e.offset());
    }

    @Test
    void moreNodesThanCountedFailsBeforeReadingTheExtraNode() {
        String bytes = DOMAIN_BYTES.replaceFirst("00000002", "00000001");
        VMStateException e = assertThrows(VMStateException.class, () -> load(DOMAIN, new Domain(), 1, hex(bytes)));
        assertEquals("mappings", e.field());
        assertTrue(e.getMessage().contains("more than the 1 nodes the count said"), e.getMessage());
        assertEquals(4 + 4 + 1 + 28, e.offset());
    }

    @Test
    void nodeCountIsBoundedBeforeAnyNodeIsRead() {
        VMStateException huge = assertThrows(VMStateException.class,
                () -> load(DOMAIN, new Domain(), 1, hex("00000009 7fffffff 01")));
        assertTrue(huge.getMessage().contains("gtree node count 2147483647 outside 0..16777216"), huge.getMessage());
        assertEquals(4, huge.offset());
        VMStateException negative = assertThrows(VMStateException.class,
                () -> load(DOMAIN, new Domain(), 1, hex("00000009 ffffffff 00")));
        assertTrue(negative.getMessage().contains("gtree node count -1"), negative.getMessage());

        VMStateInterpreter strict = new VMStateInterpreter(new VMStateLimits(1 << 20, 1));
        VMStateException limited = assertThrows(VMStateException.class,
                () -> strict.load(MigrationInput.of(hex(DOMAIN_BYTES)), DOMAIN, new Domain(), 1));
        assertEquals("domain: field 'mappings': gtree node count 2 outside 0..1 (at byte offset 4)",
                limited.getMessage());
    }

    @Test
    void everyTruncationFailsCleanly() {
        byte[] all = hex(IOMMU_BYTES);
        for (int len = 0; len < all.length; len++) {
            byte[] cut = java.util.Arrays.copyOf(all, len);
            Exception e = assertThrows(Exception.class, () -> load(IOMMU, new Iommu(), 1, cut), "length " + len);
            assertInstanceOf(MigrationStreamException.class, e, "length " + len + ": " + e);
        }
    }

    @Test
    void treeVersionMustFitKeyAndValueDescriptors() {
        VMStateDescription<Domain> newer = VMStateDescription.builder("domain", Domain.class).version(2)
                .minimumVersion(1)
                .field(gtree("mappings", 2, INTERVAL, Interval::new, MAPPING, Mapping::new, d -> d.mappings)).build();
        VMStateException e = assertThrows(VMStateException.class,
                () -> load(newer, new Domain(), 2, hex("00000000 00")));
        assertTrue(e.getMessage().contains("interval too new: field version 2 > 1"), e.getMessage());
    }

    @Test
    void vmdescRepeatsKeyAndValueDescriptorsPerNode() throws IOException {
        Domain d = new Domain();
        d.id = 1;
        d.mappings.put(new Interval(0, 0xfff), new Mapping(0x1000, 0));
        StringBuilder vmdesc = new StringBuilder();
        save(Bytes.ENGINE, DOMAIN, d, vmdesc);
        String key = "\"vmsd_name\": \"interval\", \"version\": 1, \"fields\": [{\"name\": \"low\", \"type\": \"uint64\","
                + " \"size\": 8}, {\"name\": \"high\", \"type\": \"uint64\", \"size\": 8}]";
        String value = "\"vmsd_name\": \"mapping\", \"version\": 1, \"fields\": [{\"name\": \"phys\", \"type\":"
                + " \"uint64\", \"size\": 8}, {\"name\": \"flags\", \"type\": \"uint32\", \"size\": 4}]";
        assertEquals("\"vmsd_name\": \"domain\", \"version\": 1, \"fields\": [{\"name\": \"id\", \"type\": \"uint32\","
                + " \"size\": 4}, {\"name\": \"mappings\", \"type\": \"gtree\", " + key + ", " + value
                + ", \"size\": 34}]", vmdesc.toString());

        d.mappings.put(new Interval(0x5000, 0x5fff), new Mapping(0x2000, 1));
        StringBuilder two = new StringBuilder();
        save(Bytes.ENGINE, DOMAIN, d, two);
        assertTrue(two.toString().contains(key + ", " + value + ", " + key + ", " + value + ", \"size\": 63}"),
                two.toString());
    }

    @Test
    void directKeyMustBeALong() {
        VMStateDescription<Map<Object, Domain>> bad = VMStateDescription.<Map<Object, Domain>>builder("bad")
                .version(1).minimumVersion(1)
                .field(org.savevm.api.vmstate.VMStateField.<Map<Object, Domain>>builder("t")
                        .gtreeDirectKey(DOMAIN, Domain::new)
                        .access(org.savevm.api.vmstate.ElementAccess.of(m -> m, null)).build())
                .build();
        Map<Object, Domain> m = new TreeMap<>();
        m.put("x", new Domain());
        VMStateException e = assertThrows(VMStateException.class, () -> save(bad, m));
        assertTrue(e.getMessage().contains("direct gtree key x is not a Long"), e.getMessage());
    }
}
