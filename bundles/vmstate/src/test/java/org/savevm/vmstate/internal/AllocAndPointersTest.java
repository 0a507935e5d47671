package org.savevm.vmstate.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.savevm.api.vmstate.VMStateFields.bool;
import static org.savevm.api.vmstate.VMStateFields.int32;
import static org.savevm.api.vmstate.VMStateFields.structPointerArray;
import static org.savevm.api.vmstate.VMStateFields.structVarrayAlloc;
import static org.savevm.api.vmstate.VMStateFields.uint16;
import static org.savevm.api.vmstate.VMStateFields.uint32;
import static org.savevm.api.vmstate.VMStateFields.unusedVarray;
import static org.savevm.vmstate.internal.Bytes.hex;
import static org.savevm.vmstate.internal.Bytes.load;
import static org.savevm.vmstate.internal.Bytes.save;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.ElementAccess;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateException;
import org.savevm.api.vmstate.VMStateField;
import org.savevm.api.vmstate.VMStateFlags;
import org.savevm.api.vmstate.VMStateInfos;

/**
 * VMS_ALLOC over structs (VMSTATE_STRUCT_VARRAY_ALLOC), unused variable arrays and the NULL pointer
 * marker's vmdesc shape.
 */
class AllocAndPointersTest {
    static final class Elem {
        int a;
        boolean b;
    }

    static final class Holder {
        int count;
        Elem[] elems;
        int tail;
    }

    static final AtomicInteger MADE = new AtomicInteger();

    static final VMStateDescription<Elem> ELEM = VMStateDescription.builder("elem", Elem.class).version(1)
            .minimumVersion(1)
            .field(uint16("a", e -> e.a, (e, v) -> e.a = v))
            .field(bool("b", e -> e.b, (e, v) -> e.b = v)).build();

    static final VMStateDescription<Holder> HOLDER = VMStateDescription.builder("holder", Holder.class).version(1)
            .minimumVersion(1)
            .field(int32("count", h -> h.count, (h, v) -> h.count = v))
            .field(structVarrayAlloc("elems", VMStateFlags.VARRAY_INT32, h -> h.count, ELEM, h -> h.elems,
                    (h, v) -> h.elems = v, Elem[]::new, () -> {
                        MADE.incrementAndGet();
                        return new Elem();
                    }))
            .field(uint32("tail", h -> h.tail, (h, v) -> h.tail = v)).build();

    static final String THREE = "00000003 0001 01 0002 00 ffff 01 0000002a";

    @Test
    void structVarrayAllocReplacesTheArrayAndLoadsEachElement() throws IOException {
        Holder h = new Holder();
        Elem[] before = {new Elem()};
        h.elems = before;
        long used = load(HOLDER, h, 1, hex(THREE));
        assertEquals(hex(THREE).length, used);
        assertNotSame(before, h.elems);
        assertEquals(3, h.elems.length);
        assertEquals(1, h.elems[0].a);
        assertTrue(h.elems[0].b);
        assertEquals(2, h.elems[1].a);
        assertEquals(false, h.elems[1].b);
        assertEquals(0xffff, h.elems[2].a);
        assertEquals(42, h.tail);
        assertEquals(hex(hex(THREE)), hex(save(HOLDER, h)));
    }

    @Test
    void zeroCountAllocatesNothing() throws IOException {
        Holder h = new Holder();
        load(HOLDER, h, 1, hex("00000000 00000007"));
        assertNull(h.elems, "QEMU allocates only for a non-zero size");
        assertEquals(7, h.tail);
        assertEquals("00000000" + "00000007", hex(save(HOLDER, h)));
    }

    @Test
    void allocationCountsAreBoundedBeforeAnythingIsMade() {
        MADE.set(0);
        // within the element limit, but 2M structs at >= 64 bytes each exceed 64 MiB
        VMStateException many = assertThrows(VMStateException.class,
                () -> load(HOLDER, new Holder(), 1, hex("001e8480")));
        assertEquals("elems", many.field());
        assertTrue(many.getMessage().contains("2000000 structs to allocate (counted at 64 bytes each) exceed"),
                many.getMessage());
        assertEquals(4, many.offset());
        VMStateException negative = assertThrows(VMStateException.class,
                () -> load(HOLDER, new Holder(), 1, hex("ffffffff")));
        assertTrue(negative.getMessage().contains("negative element count -1"), negative.getMessage());
        assertEquals(0, MADE.get());

        // a count the limit allows but the stream does not carry: named end of stream
        VMStateException cut = assertThrows(VMStateException.class,
                () -> load(HOLDER, new Holder(), 1, hex("00000100 0001 01")));
        // the error comes from inside element 1: its path names the array element, then its field
        assertEquals("holder.elems[1]", cut.descriptor());
        assertEquals("a", cut.field());
        assertEquals(7, cut.offset());
    }

    @Test
    void allocatingStructFieldNeedsAnAllocatingAccessor() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VMStateField.<Holder>builder("elems").struct(ELEM, 0).varray(VMStateFlags.VARRAY_INT32,
                        h -> h.count).alloc().access(ElementAccess.ofArray(h -> h.elems)).build());
        assertTrue(e.getMessage().contains("allocating accessor"), e.getMessage());
    }

    static final class Padded {
        int n;
        int after;
    }

    @Test
    void unusedVarrayWritesZerosAndSkipsOnLoad() throws IOException {
        VMStateDescription<Padded> d = VMStateDescription.builder("padded", Padded.class).version(1)
                .minimumVersion(1)
                .field(uint32("n", p -> p.n, (p, v) -> p.n = v))
                .field(unusedVarray(VMStateFlags.VARRAY_UINT32, p -> p.n, 3))
                .field(uint16("after", p -> p.after, (p, v) -> p.after = v)).build();
        Padded p = new Padded();
        p.n = 2;
        p.after = 0xbeef;
        assertEquals("00000002" + "000000000000" + "beef", hex(save(d, p)));
        Padded q = new Padded();
        load(d, q, 1, hex("00000002 a1a2a3a4a5a6 1234"));
        assertEquals(0x1234, q.after);
        VMStateException huge = assertThrows(VMStateException.class,
                () -> load(d, new Padded(), 1, hex("ffffffff")));
        assertTrue(huge.getMessage().contains("element count 4294967295 exceeds the limit"), huge.getMessage());
    }

    static final class Ptrs {
        Elem[] elems = new Elem[3];
        Integer[] ints = new Integer[2];
    }

    @Test
    void nullPointerElementIsMarkerWithAnEmptyStructInVmdesc() throws IOException {
        VMStateDescription<Ptrs> d = VMStateDescription.builder("ptrs", Ptrs.class).version(1).minimumVersion(1)
                .field(structPointerArray("elems", 3, ELEM, p -> p.elems))
                .field(VMStateField.<Ptrs>builder("ints").info(VMStateInfos.INT32, 8).array(2).arrayOfPointer()
                        .access(ElementAccess.ofArray(p -> p.ints)).build())
                .build();
        Ptrs p = new Ptrs();
        p.elems[1] = new Elem();
        p.elems[1].a = 5;
        p.ints[1] = -2;
        StringBuilder vmdesc = new StringBuilder();
        assertEquals("30" + "000500" + "30" + "30" + "fffffffe", hex(save(Bytes.ENGINE, d, p, vmdesc)));
        // a compressible array is described by element 0 only: here the NULL marker
        assertEquals("\"vmsd_name\": \"ptrs\", \"version\": 1, \"fields\": ["
                + "{\"name\": \"elems\", \"array_len\": 3, \"type\": \"struct\", \"struct\": {}, \"size\": 1}, "
                + "{\"name\": \"ints\", \"array_len\": 2, \"type\": \"int32\", \"size\": 1}]", vmdesc.toString());

        Ptrs back = new Ptrs();
        back.elems[1] = new Elem();
        back.ints[1] = 0;
        load(d, back, 1, hex("30 000701 30 30 00000009"));
        assertNull(back.elems[0]);
        assertEquals(7, back.elems[1].a);
        assertNull(back.ints[0]);
        assertEquals(9, back.ints[1]);
        VMStateException wrong = assertThrows(VMStateException.class,
                () -> load(d, new Ptrs(), 1, hex("31")));
        assertEquals("elems", wrong.field());
        assertTrue(wrong.getMessage().contains("expected marker 0x30, got 0x31"), wrong.getMessage());
    }
}
