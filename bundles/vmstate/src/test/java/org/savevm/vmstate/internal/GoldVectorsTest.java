package org.savevm.vmstate.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.savevm.api.vmstate.VMStateFields.bool;
import static org.savevm.api.vmstate.VMStateFields.since;
import static org.savevm.api.vmstate.VMStateFields.when;
import static org.savevm.api.vmstate.VMStateFields.int16;
import static org.savevm.api.vmstate.VMStateFields.int32;
import static org.savevm.api.vmstate.VMStateFields.int64;
import static org.savevm.api.vmstate.VMStateFields.int8;
import static org.savevm.api.vmstate.VMStateFields.structPointerArray;
import static org.savevm.api.vmstate.VMStateFields.uint16;
import static org.savevm.api.vmstate.VMStateFields.uint16Array;
import static org.savevm.api.vmstate.VMStateFields.uint32;
import static org.savevm.api.vmstate.VMStateFields.uint64;
import static org.savevm.api.vmstate.VMStateFields.uint8;
import static org.savevm.vmstate.internal.Bytes.hex;
import static org.savevm.vmstate.internal.Bytes.load;
import static org.savevm.vmstate.internal.Bytes.save;

import java.io.IOException;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.ElementAccess;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateField;
import org.savevm.api.vmstate.VMStateInfos;
import org.savevm.api.vmstate.VMStateException;
import org.savevm.stream.MigrationStreamException;

/** The cases of QEMU 7.2's tests/unit/test-vmstate.c, vectors written from the wire-format facts. */
class GoldVectorsTest {
    static final class Prim {
        boolean b1, b2;
        int u8, u16, u32, i8a, i8b, i16a, i16b, i32a, i32b;
        long u64, i64a, i64b;
    }

    static final VMStateDescription<Prim> PRIM = VMStateDescription.builder("simple/primitive", Prim.class)
            .version(1).minimumVersion(1)
            .field(bool("b_1", s -> s.b1, (s, v) -> s.b1 = v))
            .field(bool("b_2", s -> s.b2, (s, v) -> s.b2 = v))
            .field(uint8("u8_1", s -> s.u8, (s, v) -> s.u8 = v))
            .field(uint16("u16_1", s -> s.u16, (s, v) -> s.u16 = v))
            .field(uint32("u32_1", s -> s.u32, (s, v) -> s.u32 = v))
            .field(uint64("u64_1", s -> s.u64, (s, v) -> s.u64 = v))
            .field(int8("i8_1", s -> s.i8a, (s, v) -> s.i8a = v))
            .field(int8("i8_2", s -> s.i8b, (s, v) -> s.i8b = v))
            .field(int16("i16_1", s -> s.i16a, (s, v) -> s.i16a = v))
            .field(int16("i16_2", s -> s.i16b, (s, v) -> s.i16b = v))
            .field(int32("i32_1", s -> s.i32a, (s, v) -> s.i32a = v))
            .field(int32("i32_2", s -> s.i32b, (s, v) -> s.i32b = v))
            .field(int64("i64_1", s -> s.i64a, (s, v) -> s.i64a = v))
            .field(int64("i64_2", s -> s.i64b, (s, v) -> s.i64b = v))
            .build();

    static final String PRIM_BYTES = "01 00 82 0200 00011170 0000000000b8f47c 41 bf 0200 fe00 00011170 fffeee90"
            + " 0000000000b8f47c ffffffffff470b84";

    static Prim prim() {
        Prim p = new Prim();
        p.b1 = true;
        p.u8 = 130;
        p.u16 = 512;
        p.u32 = 70000;
        p.u64 = 12121212;
        p.i8a = 65;
        p.i8b = -65;
        p.i16a = 512;
        p.i16b = -512;
        p.i32a = 70000;
        p.i32b = -70000;
        p.i64a = 12121212;
        p.i64b = -12121212;
        return p;
    }

    @Test
    void primitivesSaveExactBytes() throws IOException {
        assertEquals(hex(hex(PRIM_BYTES)), hex(save(PRIM, prim())));
    }

    @Test
    void primitivesLoadEveryValue() throws IOException {
        Prim p = new Prim();
        byte[] v = hex(PRIM_BYTES + "00");
        assertEquals(v.length - 1, load(PRIM, p, 1, v));
        assertTrue(p.b1);
        assertFalse(p.b2);
        assertEquals(130, p.u8);
        assertEquals(512, p.u16);
        assertEquals(70000, p.u32);
        assertEquals(12121212, p.u64);
        assertEquals(65, p.i8a);
        assertEquals(-65, p.i8b);
        assertEquals(-512, p.i16b);
        assertEquals(-70000, p.i32b);
        assertEquals(-12121212, p.i64b);
    }

    @Test
    void truncatedPrimitivesFailWithOffset() {
        byte[] full = hex(PRIM_BYTES);
        for (int len : new int[] {0, full.length - 2, full.length / 2}) {
            byte[] cut = Arrays.copyOf(full, len);
            VMStateException e = assertThrows(VMStateException.class, () -> load(PRIM, new Prim(), 1, cut));
            assertTrue(e.getMessage().startsWith("simple/primitive: field '"), e.getMessage());
            assertTrue(e.offset() <= len, e.getMessage());
        }
        byte[] secondHalf = Arrays.copyOfRange(full, full.length / 2, full.length);
        assertThrows(MigrationStreamException.class, () -> load(PRIM, new Prim(), 1, secondHalf));
    }

    static final class Arr {
        int[] a = new int[3];
    }

    @Test
    void uint16ArrayBytesAndLoad() throws IOException {
        VMStateDescription<Arr> d = VMStateDescription.builder("simple/array", Arr.class).version(1)
                .field(uint16Array("u16_1", 3, s -> s.a)).build();
        Arr a = new Arr();
        a.a = new int[] {0x42, 0x43, 0x44};
        assertEquals("004200430044", hex(save(d, a)));
        Arr b = new Arr();
        load(d, b, 1, hex("0042 0043 0044 00"));
        assertArrayEquals(new int[] {0x42, 0x43, 0x44}, b.a);
    }

    static final class Versioned {
        int a, b, c, e;
        long d, f;
    }

    static final VMStateDescription<Versioned> VERSIONED = VMStateDescription.builder("v", Versioned.class)
            .version(2).minimumVersion(1)
            .field(uint32("a", s -> s.a, (s, v) -> s.a = v))
            .field(since(2, uint32("b", s -> s.b, (s, v) -> s.b = v)))
            .field(uint32("c", s -> s.c, (s, v) -> s.c = v))
            .field(uint64("d", s -> s.d, (s, v) -> s.d = v))
            .field(since(2, uint32("e", s -> s.e, (s, v) -> s.e = v)))
            .field(since(2, uint64("f", s -> s.f, (s, v) -> s.f = v)))
            .build();

    @Test
    void versionedLoadV1SkipsNewerFields() throws IOException {
        Versioned v = new Versioned();
        v.b = 200;
        v.e = 500;
        v.f = 600;
        byte[] in = hex("0000000a 0000001e 0000000000000028 00");
        assertEquals(in.length - 1, load(VERSIONED, v, 1, in));
        assertEquals(10, v.a);
        assertEquals(30, v.c);
        assertEquals(40, v.d);
        assertEquals(200, v.b);
        assertEquals(500, v.e);
        assertEquals(600, v.f);
    }

    @Test
    void versionedLoadV2ReadsAll() throws IOException {
        Versioned v = new Versioned();
        byte[] in = hex("0000000a 00000014 0000001e 0000000000000028 00000032 000000000000003c 00");
        assertEquals(in.length - 1, load(VERSIONED, v, 2, in));
        assertEquals(20, v.b);
        assertEquals(50, v.e);
        assertEquals(60, v.f);
        assertEquals(hex(Arrays.copyOf(in, in.length - 1)), hex(save(VERSIONED, v)));
    }

    @Test
    void versionTooNewOrTooOldIsRefused() {
        VMStateException neu = assertThrows(VMStateException.class,
                () -> load(VERSIONED, new Versioned(), 3, hex("00")));
        assertEquals("v: incoming version_id 3 is too new for local version_id 2 (at byte offset 0)", neu.getMessage());
        VMStateException old = assertThrows(VMStateException.class,
                () -> load(VERSIONED, new Versioned(), 0, hex("00")));
        assertTrue(old.getMessage().contains("too old for local minimum version_id 1"), old.getMessage());
    }

    static final class Exists {
        boolean skip;
        int a, b, c, e;
        long d, f;
    }

    static final VMStateDescription<Exists> EXISTS = VMStateDescription.builder("field_exists", Exists.class)
            .version(2).minimumVersion(1)
            .field(uint32("a", s -> s.a, (s, v) -> s.a = v))
            .field(uint32("b", s -> s.b, (s, v) -> s.b = v))
            .field(when((s, ver) -> !s.skip, uint32("c", s -> s.c, (s, v) -> s.c = v)))
            .field(uint64("d", s -> s.d, (s, v) -> s.d = v))
            .field(when((s, ver) -> !s.skip, uint32("e", s -> s.e, (s, v) -> s.e = v)))
            .field(since(2, uint64("f", s -> s.f, (s, v) -> s.f = v)))
            .build();

    static Exists exists(boolean skip) {
        Exists x = new Exists();
        x.skip = skip;
        x.a = 1;
        x.b = 2;
        x.c = 3;
        x.d = 4;
        x.e = 5;
        x.f = 6;
        return x;
    }

    @Test
    void fieldExistsSave() throws IOException {
        assertEquals("00000001" + "00000002" + "00000003" + "0000000000000004" + "00000005" + "0000000000000006",
                hex(save(EXISTS, exists(false))));
        assertEquals("00000001" + "00000002" + "0000000000000004" + "0000000000000006",
                hex(save(EXISTS, exists(true))));
    }

    @Test
    void fieldExistsLoadKeepsSkippedValues() throws IOException {
        Exists x = new Exists();
        x.skip = true;
        x.c = 300;
        x.e = 500;
        load(EXISTS, x, 2, hex("00000001 00000002 0000000000000004 0000000000000006"));
        assertEquals(300, x.c);
        assertEquals(500, x.e);
        assertEquals(6, x.f);
        Exists y = new Exists();
        load(EXISTS, y, 2, hex("00000001 00000002 00000003 0000000000000004 00000005 0000000000000006"));
        assertEquals(3, y.c);
        assertEquals(5, y.e);
    }

    static final class Elem {
        int i;

        Elem(int i) {
            this.i = i;
        }
    }

    static final VMStateDescription<Elem> ELEM = VMStateDescription.builder("elem", Elem.class).version(1)
            .field(int32("i", s -> s.i, (s, v) -> s.i = v)).build();

    static final class PtrArr {
        Elem[] e = new Elem[4];
    }

    static final VMStateDescription<PtrArr> PTR_STR = VMStateDescription.builder("ptr/str", PtrArr.class).version(1)
            .field(structPointerArray("ar", 4, ELEM, s -> s.e)).build();

    @Test
    void arrayOfPointerToStruct() throws IOException {
        PtrArr p = new PtrArr();
        for (int i = 0; i < 4; i++) {
            p.e[i] = new Elem(i);
        }
        assertEquals("00000000000000010000000200000003", hex(save(PTR_STR, p)));
        p.e[1] = null;
        assertEquals("00000000" + "30" + "0000000200000003", hex(save(PTR_STR, p)));
        PtrArr q = new PtrArr();
        for (int i = 0; i < 4; i++) {
            q.e[i] = new Elem(-1);
        }
        q.e[1] = null;
        load(PTR_STR, q, 1, hex("00000000 30 00000002 00000003 00"));
        assertEquals(0, q.e[0].i);
        assertNull(q.e[1]);
        assertEquals(3, q.e[3].i);
    }

    @Test
    void arrayOfPointerToPrimitiveKeepsNullSlot() throws IOException {
        final class Ints {
            Integer[] v = {0, null, 2, 3};
        }
        VMStateDescription<Ints> d = VMStateDescription.builder("ptr/prim", Ints.class).version(1)
                .field(VMStateField.<Ints>builder("ar").info(VMStateInfos.INT32, 4).array(4).arrayOfPointer()
                        .access(ElementAccess.ofArray(s -> s.v)).build())
                .build();
        Ints a = new Ints();
        assertEquals("00000000" + "30" + "0000000200000003", hex(save(d, a)));
        Ints b = new Ints();
        b.v = new Integer[] {9, null, 9, 9};
        load(d, b, 1, hex("00000000 30 00000002 00000003"));
        assertArrayEquals(new Integer[] {0, null, 2, 3}, b.v);
        VMStateException bad = assertThrows(VMStateException.class,
                () -> load(d, new Ints(), 1, hex("00000000 31 00000002 00000003")));
        assertTrue(bad.getMessage().contains("expected marker 0x30, got 0x31"), bad.getMessage());
        assertEquals(4, bad.offset());
    }
}
