package org.savevm.vmstate.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.savevm.api.vmstate.VMStateFields.bitmap;
import static org.savevm.api.vmstate.VMStateFields.bool;
import static org.savevm.api.vmstate.VMStateFields.buffer;
import static org.savevm.api.vmstate.VMStateFields.cpuDouble;
import static org.savevm.api.vmstate.VMStateFields.float64;
import static org.savevm.api.vmstate.VMStateFields.int32;
import static org.savevm.api.vmstate.VMStateFields.int32Equal;
import static org.savevm.api.vmstate.VMStateFields.int32Le;
import static org.savevm.api.vmstate.VMStateFields.struct;
import static org.savevm.api.vmstate.VMStateFields.structArray;
import static org.savevm.api.vmstate.VMStateFields.timer;
import static org.savevm.api.vmstate.VMStateFields.uint16Equal;
import static org.savevm.api.vmstate.VMStateFields.uint32;
import static org.savevm.api.vmstate.VMStateFields.uint32Equal;
import static org.savevm.api.vmstate.VMStateFields.uint64Equal;
import static org.savevm.api.vmstate.VMStateFields.uint8;
import static org.savevm.api.vmstate.VMStateFields.uint8Array;
import static org.savevm.api.vmstate.VMStateFields.uint8Equal;
import static org.savevm.api.vmstate.VMStateFields.unused;
import static org.savevm.api.vmstate.VMStateFields.validate;
import static org.savevm.api.vmstate.VMStateFields.varray;
import static org.savevm.api.vmstate.VMStateFields.varrayAlloc;
import static org.savevm.api.vmstate.VMStateFields.vbuffer;
import static org.savevm.api.vmstate.VMStateFields.vbufferAlloc;
import static org.savevm.api.vmstate.VMStateFields.vbufferMultiply;
import static org.savevm.vmstate.internal.Bytes.hex;
import static org.savevm.vmstate.internal.Bytes.load;
import static org.savevm.vmstate.internal.Bytes.save;

import java.io.IOException;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.DetachedTimer;
import org.savevm.api.vmstate.ElementAccess;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateException;
import org.savevm.api.vmstate.VMStateField;
import org.savevm.api.vmstate.VMStateFields;
import org.savevm.api.vmstate.VMStateFlags;
import org.savevm.api.vmstate.VMStateInfos;

/** Byte-exact vectors for every field kind and info type, and their refusals. */
class FieldKindsTest {
    static final class S {
        int n8, n16, n32;
        int[] words = new int[8];
        byte[] buf = new byte[6];
        int bufLen;
        long[] bits = new long[2];
        int nbits;
        boolean flag;
        double d;
        int equal32 = 7, equal8 = 0xfe, equal16 = 0xfffe, le = 10;
        long equal64 = -2;
        DetachedTimer timer = new DetachedTimer();
        Inner inner = new Inner();
        Inner[] inners = {new Inner(), new Inner()};
    }

    static final class Inner {
        int x;
    }

    static <T> VMStateDescription.Builder<T> desc(Class<T> c) {
        return VMStateDescription.builder("t", c).version(1).minimumVersion(1);
    }

    @Test
    void varrayCountsOfEveryWidth() throws IOException {
        S s = new S();
        s.words = new int[] {1, 2, 3, 4, 5, 6, 7, 8};
        s.n8 = 2;
        s.n16 = 1;
        s.n32 = 3;
        VMStateDescription<S> d = desc(S.class)
                .field(varray("a", VMStateFlags.VARRAY_UINT8, x -> x.n8, VMStateInfos.UINT8, 1, x -> x.words))
                .field(varray("b", VMStateFlags.VARRAY_UINT16, x -> x.n16, VMStateInfos.UINT16, 2, x -> x.words))
                .field(varray("c", VMStateFlags.VARRAY_INT32, x -> x.n32, VMStateInfos.UINT32, 4, x -> x.words))
                .field(varray("d", VMStateFlags.VARRAY_UINT32, x -> x.n8, VMStateInfos.INT32, 4, x -> x.words))
                .build();
        assertEquals("0102" + "0001" + "000000010000000200000003" + "0000000100000002", hex(save(d, s)));
        S t = new S();
        t.n8 = 2;
        t.n16 = 1;
        t.n32 = 3;
        load(d, t, 1, hex("0908 0007 000000060000000500000004 0000000300000002"));
        assertArrayEquals(new int[] {3, 2, 4, 0, 0, 0, 0, 0}, t.words);
    }

    @Test
    void varrayCountBeyondTheStateOrTheLimitIsRefused() {
        VMStateDescription<S> d = desc(S.class)
                .field(uint32("n", x -> x.n32, (x, v) -> x.n32 = v))
                .field(varray("w", VMStateFlags.VARRAY_UINT32, x -> x.n32, VMStateInfos.UINT32, 4, x -> x.words))
                .build();
        VMStateException big = assertThrows(VMStateException.class, () -> load(d, new S(), 1, hex("00000009")));
        assertTrue(big.getMessage().contains("9 elements do not fit the 8"), big.getMessage());
        assertEquals("w", big.field());
        VMStateException huge = assertThrows(VMStateException.class, () -> load(d, new S(), 1, hex("ffffffff")));
        assertTrue(huge.getMessage().contains("element count 4294967295 exceeds the limit"), huge.getMessage());
        assertEquals(4, huge.offset());
    }

    static final class Alloc {
        int len;
        byte[] data;
        int count;
        int[] values;
    }

    @Test
    void allocatingFieldsAreBoundedBeforeTheyAllocate() throws IOException {
        VMStateDescription<Alloc> d = desc(Alloc.class)
                .field(uint32("len", x -> x.len, (x, v) -> x.len = v))
                .field(vbufferAlloc("data", x -> x.len, x -> x.data, (x, v) -> x.data = v))
                .field(uint8("count", x -> x.count, (x, v) -> x.count = v))
                .field(varrayAlloc("values", VMStateFlags.VARRAY_UINT8, x -> x.count, VMStateInfos.UINT16, 2,
                        x -> x.values, (x, v) -> x.values = v))
                .build();
        Alloc a = new Alloc();
        load(d, a, 1, hex("00000003 616263 02 0102 0304"));
        assertEquals("abc", new String(a.data));
        assertArrayEquals(new int[] {0x102, 0x304}, a.values);
        assertEquals("00000003616263" + "02" + "01020304", hex(save(d, a)));

        // 2 GiB claimed: refused by the limit before any allocation
        VMStateException e = assertThrows(VMStateException.class, () -> load(d, new Alloc(), 1, hex("7fffffff 00")));
        assertTrue(e.getMessage().contains("exceed the limit"), e.getMessage());
        // negative int32 size
        VMStateException neg = assertThrows(VMStateException.class, () -> load(d, new Alloc(), 1, hex("ffffffff")));
        assertTrue(neg.getMessage().contains("negative element size -1"), neg.getMessage());
        // within the limit but beyond the stream: end of stream, named
        VMStateException cut = assertThrows(VMStateException.class,
                () -> load(d, new Alloc(), 1, hex("00100000 0102")));
        assertEquals("data", cut.field());
        assertTrue(cut.getMessage().contains("unexpected end of stream"), cut.getMessage());
    }

    @Test
    void configuredLimitRefusesSmallerClaims() {
        VMStateInterpreter strict = new VMStateInterpreter(new VMStateLimits(1024, 100));
        VMStateDescription<Alloc> d = desc(Alloc.class)
                .field(uint32("len", x -> x.len, (x, v) -> x.len = v))
                .field(vbufferAlloc("data", x -> x.len, x -> x.data, (x, v) -> x.data = v)).build();
        VMStateException e = assertThrows(VMStateException.class,
                () -> strict.load(org.savevm.stream.MigrationInput.of(hex("00000401")), d, new Alloc(), 1));
        assertEquals("t: field 'data': 1 elements of 1025 bytes exceed the limit of 1024 bytes per field"
                + " (at byte offset 4)", e.getMessage());
    }

    @Test
    void vbufferReadsInPlaceAndRefusesOverlongSizes() throws IOException {
        VMStateDescription<S> d = desc(S.class)
                .field(uint8("len", x -> x.bufLen, (x, v) -> x.bufLen = v))
                .field(vbuffer("buf", x -> x.bufLen, x -> x.buf)).build();
        S s = new S();
        byte[] mine = s.buf;
        load(d, s, 1, hex("04 deadbeef"));
        assertSame(mine, s.buf);
        assertEquals("deadbeef0000", hex(s.buf));
        VMStateException e = assertThrows(VMStateException.class, () -> load(d, new S(), 1, hex("07 00000000000000")));
        assertTrue(e.getMessage().contains("stream carries 7 bytes but the buffer holds 6"), e.getMessage());
    }

    @Test
    void vbufferMultiplyAndMultiplyElements() throws IOException {
        VMStateDescription<S> d = desc(S.class)
                .field(vbufferMultiply("buf", 3, x -> x.bufLen, x -> x.buf))
                .field(VMStateField.<S>builder("w").info(VMStateInfos.UINT8, 1)
                        .varray(VMStateFlags.VARRAY_INT32, x -> x.n32).multiplyElements(2)
                        .access(ElementAccess.ofIntArray(x -> x.words, null)).build())
                .build();
        S s = new S();
        s.bufLen = 2;
        s.buf = new byte[] {1, 2, 3, 4, 5, 6};
        s.n32 = 3;
        s.words = new int[] {9, 8, 7, 6, 5, 4, 3, 2};
        assertEquals("010203040506" + "090807060504", hex(save(d, s)));
    }

    @Test
    void structsAndStructArraysCarryNoHeader() throws IOException {
        VMStateDescription<Inner> inner = VMStateDescription.builder("inner", Inner.class).version(5).minimumVersion(5)
                .field(int32("x", i -> i.x, (i, v) -> i.x = v)).build();
        VMStateDescription<S> d = desc(S.class)
                .field(struct("one", inner, x -> x.inner))
                .field(structArray("two", 2, inner, x -> x.inners)).build();
        S s = new S();
        s.inner.x = 1;
        s.inners[0].x = 2;
        s.inners[1].x = -1;
        assertEquals("00000001" + "00000002" + "ffffffff", hex(save(d, s)));
        S t = new S();
        load(d, t, 1, hex("00000005 00000006 00000007"));
        assertEquals(5, t.inner.x);
        assertEquals(7, t.inners[1].x);
    }

    @Test
    void bufferUnusedBoolDoubleBitmapTimer() throws IOException {
        VMStateDescription<S> d = desc(S.class)
                .field(buffer("buf", 3, x -> x.buf))
                .field(unused(2))
                .field(bool("flag", x -> x.flag, (x, v) -> x.flag = v))
                .field(cpuDouble("d", x -> x.d, (x, v) -> x.d = v))
                .field(float64("f", x -> x.d, (x, v) -> x.d = v))
                .field(bitmap("bits", x -> x.nbits, x -> x.bits))
                .field(timer("timer", x -> x.timer)).build();
        S s = new S();
        s.buf = new byte[] {1, 2, 3, 4, 5, 6};
        s.flag = true;
        s.d = 1.5;
        s.nbits = 65;
        s.bits = new long[] {1L << 63 | 1, 1};
        s.timer.setExpireTimeNs(0x1234);
        assertEquals("010203" + "0000" + "01" + "3ff8000000000000" + "3ff8000000000000"
                + "8000000000000001" + "0000000000000001" + "0000000000001234", hex(save(d, s)));
        s.timer.cancel();
        byte[] bytes = save(d, s);
        assertEquals("ffffffffffffffff", hex(bytes).substring(hex(bytes).length() - 16));

        S t = new S();
        t.nbits = 65;
        t.timer.setExpireTimeNs(99);
        load(d, t, 1, hex("0a0b0c ffff 02 4000000000000000 4008000000000000 0000000000000003 0000000000000000"
                + " ffffffffffffffff"));
        assertEquals("0a0b0c", hex(t.buf).substring(0, 6));
        assertTrue(t.flag, "any non-zero byte is true");
        assertEquals(3.0, t.d);
        assertArrayEquals(new long[] {3, 0}, t.bits);
        assertEquals(-1, t.timer.expireTimeNs());
    }

    @Test
    void equalTypesCompareAndNeverStore() throws IOException {
        VMStateDescription<S> d = desc(S.class)
                .field(int32Equal("e32", x -> x.equal32))
                .field(uint8Equal("e8", x -> x.equal8))
                .field(uint16Equal("e16", x -> x.equal16))
                .field(uint32Equal("u32", x -> x.equal32))
                .field(uint64Equal("e64", x -> x.equal64))
                .field(int32Le("le", x -> x.le, (x, v) -> x.le = v)).build();
        S s = new S();
        String good = "00000007 fe fffe 00000007 fffffffffffffffe 00000004";
        assertEquals(hex(hex(good.replace("00000004", "0000000a"))), hex(save(d, s)));
        load(d, s, 1, hex(good));
        assertEquals(4, s.le);

        VMStateException e = assertThrows(VMStateException.class,
                () -> load(d, new S(), 1, hex(good.replaceFirst("00000007", "00000008"))));
        assertEquals("t: field 'e32': value 8 does not match the local 7 (at byte offset 0)", e.getMessage());
        VMStateException e8 = assertThrows(VMStateException.class,
                () -> load(d, new S(), 1, hex(good.replace(" fe ", " fd "))));
        assertEquals("e8", e8.field());
        VMStateException e64 = assertThrows(VMStateException.class,
                () -> load(d, new S(), 1, hex(good.replace("fffffffffffffffe", "0000000000000001"))));
        assertTrue(e64.getMessage().contains("value 1 does not match the local 18446744073709551614"), e64.getMessage());
        VMStateException le = assertThrows(VMStateException.class,
                () -> load(d, new S(), 1, hex(good.replace("00000004", "0000000b"))));
        assertTrue(le.getMessage().contains("value 11 is not in 0..10"), le.getMessage());
        assertEquals(19, le.offset());
    }

    @Test
    void errHintIsAddedToTheFieldsLoadError() {
        VMStateDescription<S> d = desc(S.class)
                .field(VMStateFields.hint("the destination needs the same number of CPUs",
                        uint32Equal("cpus", x -> x.equal32)))
                .build();
        VMStateException e = assertThrows(VMStateException.class, () -> load(d, new S(), 1, hex("00000002")));
        assertEquals("t: field 'cpus': value 2 does not match the local 7 (the destination needs the same number"
                + " of CPUs) (at byte offset 0)", e.getMessage());
    }

    @Test
    void validateFailsTheLoadWithoutBytes() throws IOException {
        VMStateDescription<S> d = desc(S.class)
                .field(uint8("n", x -> x.n8, (x, v) -> x.n8 = v))
                .field(validate("n below 4", x -> x.n8 < 4))
                .field(uint8("m", x -> x.n16, (x, v) -> x.n16 = v)).build();
        S s = new S();
        s.n8 = 3;
        s.n16 = 9;
        assertEquals("0309", hex(save(d, s)));
        load(d, new S(), 1, hex("0201"));
        VMStateException e = assertThrows(VMStateException.class, () -> load(d, new S(), 1, hex("0501")));
        assertEquals("t: field 'n below 4': input validation failed (at byte offset 1)", e.getMessage());
    }

    @Test
    void vstructUsesItsExplicitVersionAndDescribesInline() throws IOException {
        VMStateDescription<Inner> inner = VMStateDescription.builder("inner", Inner.class).version(3).minimumVersion(1)
                .field(int32("x", i -> i.x, (i, v) -> i.x = v))
                .field(org.savevm.api.vmstate.VMStateFields.since(3, int32("y", i -> i.x, (i, v) -> i.x = v)))
                .build();
        VMStateDescription<S> d = desc(S.class)
                .field(VMStateField.<S>builder("v").vstruct(inner, 2, 4)
                        .access(ElementAccess.of(x -> x.inner, null)).build()).build();
        S s = new S();
        s.inner.x = 5;
        StringBuilder vmdesc = new StringBuilder();
        assertEquals("00000005", hex(Bytes.save(Bytes.ENGINE, d, s, vmdesc)));
        assertEquals("\"vmsd_name\": \"t\", \"version\": 1, \"fields\": [{\"name\": \"v\", \"type\": \"vstruct\","
                + " \"vmsd_name\": \"inner\", \"version\": 2, \"fields\": [{\"name\": \"x\", \"type\": \"int32\","
                + " \"size\": 4}], \"size\": 4}]", vmdesc.toString());
        S t = new S();
        assertEquals(4, load(d, t, 1, hex("00000009 ff")));
        assertEquals(9, t.inner.x);
    }

    static final class Caps {
        int count;
        final java.util.List<String> caps = new java.util.ArrayList<>();
    }

    @Test
    void capabilitiesAsTheConfigurationSectionCarriesThem() throws IOException {
        VMStateDescription<Caps> d = VMStateDescription.builder("configuration/capabilities", Caps.class).version(1)
                .minimumVersion(1)
                .field(uint32("caps_count", c -> c.count, (c, v) -> c.count = v))
                .field(VMStateField.<Caps>builder("capabilities").version(1)
                        .info(VMStateInfos.capability(java.util.Set.of("x-ignore-shared", "xbzrle")), 4)
                        .varray(VMStateFlags.VARRAY_UINT32, c -> c.count).alloc()
                        .access(ElementAccess.ofList(c -> c.caps)).build())
                .build();
        Caps c = new Caps();
        c.count = 1;
        c.caps.add("x-ignore-shared");
        String bytes = "00000001 0f" + hex("x-ignore-shared".getBytes());
        assertEquals(hex(hex(bytes)), hex(save(d, c)));
        Caps t = new Caps();
        t.caps.add("stale");
        load(d, t, 1, hex(bytes));
        assertEquals(java.util.List.of("x-ignore-shared"), t.caps);
        VMStateException e = assertThrows(VMStateException.class,
                () -> load(d, new Caps(), 1, hex("00000001 03" + hex("abc".getBytes()))));
        assertTrue(e.getMessage().contains("Received unknown capability abc"), e.getMessage());
    }
}
