package org.savevm.vmstate.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.savevm.api.vmstate.VMStateFields.int32;
import static org.savevm.api.vmstate.VMStateFields.struct;
import static org.savevm.api.vmstate.VMStateFields.structArray;
import static org.savevm.api.vmstate.VMStateFields.uint16;
import static org.savevm.api.vmstate.VMStateFields.uint32Array;
import static org.savevm.api.vmstate.VMStateFields.uint8;
import static org.savevm.api.vmstate.VMStateFields.unused;
import static org.savevm.api.vmstate.VMStateFields.when;
import static org.savevm.vmstate.internal.Bytes.hex;
import static org.savevm.vmstate.internal.Bytes.load;
import static org.savevm.vmstate.internal.Bytes.save;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateException;

class SubsectionsAndHooksTest {
    static final class Dev {
        int a, b, c;
        int[] regs = {1, 2};
        Part part = new Part();
        Part[] parts = {new Part(), new Part()};
        final List<String> log = new ArrayList<>();
    }

    static final class Part {
        int v;
        int extra;
    }

    static VMStateDescription<Dev> dev() {
        return VMStateDescription.builder("dev", Dev.class).version(2).minimumVersion(1)
                .field(uint8("a", d -> d.a, (d, v) -> d.a = v))
                .subsection(VMStateDescription.builder("dev/b", Dev.class).version(1).minimumVersion(1)
                        .needed(d -> d.b != 0).field(uint16("b", d -> d.b, (d, v) -> d.b = v)).build())
                .subsection(VMStateDescription.builder("dev/c", Dev.class).version(3).minimumVersion(2)
                        .needed(d -> d.c != 0).field(int32("c", d -> d.c, (d, v) -> d.c = v)).build())
                .build();
    }

    @Test
    void onlyNeededSubsectionsInDeclarationOrder() throws IOException {
        Dev d = new Dev();
        d.a = 1;
        assertEquals("01", hex(save(dev(), d)));
        d.c = 5;
        assertEquals("01" + "05" + "05" + hex("dev/c".getBytes()) + "00000003" + "00000005", hex(save(dev(), d)));
        d.b = 0x102;
        assertEquals("01" + "05" + "05" + hex("dev/b".getBytes()) + "00000001" + "0102"
                + "05" + "05" + hex("dev/c".getBytes()) + "00000003" + "00000005", hex(save(dev(), d)));
    }

    @Test
    void subsectionsLoadInAnyOrderAndVersionIsItsLowByte() throws IOException {
        Dev d = new Dev();
        String c = "05 05" + hex("dev/c".getBytes()) + "00000102" + "00000009"; // be32 0x102 loads as version 2
        String b = "05 05" + hex("dev/b".getBytes()) + "00000001" + "0007";
        long used = load(dev(), d, 2, hex("03" + c + b + "7e"));
        assertEquals(3, d.a);
        assertEquals(9, d.c);
        assertEquals(7, d.b);
        assertEquals(hex("03" + c + b).length, used);
    }

    @Test
    void unknownPrefixedSubsectionIsRefused() {
        String x = "05 05" + hex("dev/x".getBytes()) + "00000001 00";
        VMStateException e = assertThrows(VMStateException.class, () -> load(dev(), new Dev(), 2, hex("03" + x)));
        assertEquals("dev: unknown subsection 'dev/x' (at byte offset 1)", e.getMessage());
    }

    @Test
    void foreignOrShortNamesEndTheLoopAndStayInTheStream() throws IOException {
        String foreign = "05 05" + hex("abc/d".getBytes()) + "00000001";
        assertEquals(1, load(dev(), new Dev(), 2, hex("03" + foreign)));
        assertEquals(1, load(dev(), new Dev(), 2, hex("03 05 03" + hex("dev".getBytes()))));
        assertEquals(1, load(dev(), new Dev(), 2, hex("03 05"))); // truncated header: left for the caller
    }

    @Test
    void subsectionVersionChecked() {
        String c = "05 05" + hex("dev/c".getBytes()) + "00000001" + "00000009";
        VMStateException e = assertThrows(VMStateException.class, () -> load(dev(), new Dev(), 2, hex("03" + c)));
        assertEquals("dev/c: incoming version_id 1 is too old for local minimum version_id 2 (at byte offset 12)",
                e.getMessage());
    }

    static VMStateDescription<Part> part(List<String> log) {
        return VMStateDescription.builder("part", Part.class).version(4).minimumVersion(4)
                .preSave(p -> log.add("part.pre_save"))
                .postSave(p -> log.add("part.post_save"))
                .preLoad(p -> log.add("part.pre_load"))
                .postLoad((p, v) -> log.add("part.post_load v" + v))
                .field(int32("v", p -> p.v, (p, x) -> p.v = x))
                .subsection(VMStateDescription.builder("part/extra", Part.class).version(1).minimumVersion(1)
                        .needed(p -> p.extra != 0).field(uint8("extra", p -> p.extra, (p, x) -> p.extra = x))
                        .build())
                .build();
    }

    static VMStateDescription<Dev> hooked(List<String> log) {
        return VMStateDescription.builder("dev", Dev.class).version(2).minimumVersion(1)
                .preSave(d -> log.add("dev.pre_save"))
                .postSave(d -> log.add("dev.post_save"))
                .preLoad(d -> log.add("dev.pre_load"))
                .postLoad((d, v) -> log.add("dev.post_load v" + v))
                .field(struct("part", part(log), d -> d.part))
                .subsection(VMStateDescription.builder("dev/b", Dev.class).version(1).minimumVersion(1)
                        .needed(d -> d.b != 0)
                        .preSave(d -> log.add("sub.pre_save"))
                        .postLoad((d, v) -> log.add("sub.post_load v" + v))
                        .field(uint16("b", d -> d.b, (d, v) -> d.b = v)).build())
                .build();
    }

    @Test
    void hooksRunInQemuOrder() throws IOException {
        List<String> log = new ArrayList<>();
        Dev d = new Dev();
        d.b = 1;
        d.part.extra = 2;
        byte[] bytes = save(Bytes.ENGINE, hooked(log), d, null);
        assertEquals(List.of("dev.pre_save", "part.pre_save", "part.post_save", "sub.pre_save", "dev.post_save"), log);
        assertEquals(hex(hex("00000000" + "05 0a" + hex("part/extra".getBytes()) + "00000001 02"
                + "05 05" + hex("dev/b".getBytes()) + "00000001 0001")), hex(bytes),
                "the struct's subsection follows its fields, before the parent's subsection");
        log.clear();
        load(hooked(log), new Dev(), 2, bytes);
        assertEquals(List.of("dev.pre_load", "part.pre_load", "part.post_load v4", "sub.post_load v1",
                "dev.post_load v2"), log);
    }

    @Test
    void postSaveRunsWhenAFieldFailsAndPreSaveErrorsAbort() {
        List<String> log = new ArrayList<>();
        VMStateDescription<Dev> failing = VMStateDescription.builder("dev", Dev.class).version(1)
                .postSave(d -> log.add("post_save"))
                .field(struct("part", part(log), d -> null)).build();
        VMStateException e = assertThrows(VMStateException.class, () -> save(failing, new Dev()));
        assertEquals("part", e.field());
        assertEquals(List.of("post_save"), log);

        log.clear();
        VMStateDescription<Dev> refusing = VMStateDescription.builder("dev", Dev.class).version(1)
                .preSave(d -> {
                    throw new IllegalStateException("busy");
                })
                .postSave(d -> log.add("post_save"))
                .field(uint8("a", d -> d.a, (d, v) -> d.a = v)).build();
        VMStateException p = assertThrows(VMStateException.class, () -> save(refusing, new Dev()));
        assertEquals("dev: pre_save failed: busy (at byte offset 0)", p.getMessage());
        assertEquals(List.of(), log);
    }

    @Test
    void postLoadErrorFailsTheLoad() {
        VMStateDescription<Dev> d = VMStateDescription.builder("dev", Dev.class).version(1)
                .postLoad((x, v) -> {
                    throw new IllegalStateException("inconsistent");
                })
                .field(uint8("a", x -> x.a, (x, v) -> x.a = v)).build();
        VMStateException e = assertThrows(VMStateException.class, () -> load(d, new Dev(), 1, hex("01")));
        assertEquals("dev: post_load failed: inconsistent (at byte offset 1)", e.getMessage());
    }

    @Test
    void vmdescCompactFormWithNamesArraysStructsAndSubsections() throws IOException {
        List<String> log = new ArrayList<>();
        VMStateDescription<Part> plain = VMStateDescription.builder("plain", Part.class).version(1)
                .field(int32("v", p -> p.v, (p, x) -> p.v = x)).build();
        VMStateDescription<Dev> d = VMStateDescription.builder("dev", Dev.class).version(2).minimumVersion(1)
                .field(unused(2))
                .field(uint32Array("regs", 2, x -> x.regs))
                .field(unused(1))
                .field(structArray("plains", 2, plain, x -> x.parts))
                .field(structArray("parts", 2, part(log), x -> x.parts))
                .field(when((x, v) -> true, uint8("t", x -> x.a, (x, v) -> x.a = v)))
                .subsection(VMStateDescription.builder("dev/b", Dev.class).version(1).minimumVersion(1)
                        .field(uint16("b", x -> x.b, (x, v) -> x.b = v)).build())
                .build();
        Dev dev = new Dev();
        dev.parts[1].extra = 1;
        StringBuilder vmdesc = new StringBuilder();
        save(Bytes.ENGINE, d, dev, vmdesc);
        assertEquals("\"vmsd_name\": \"dev\", \"version\": 2, \"fields\": ["
                + "{\"name\": \"unused[0]\", \"type\": \"unused_buffer\", \"size\": 2}, "
                + "{\"name\": \"regs\", \"array_len\": 2, \"type\": \"uint32\", \"size\": 4}, "
                + "{\"name\": \"unused[1]\", \"type\": \"unused_buffer\", \"size\": 1}, "
                + "{\"name\": \"plains\", \"array_len\": 2, \"type\": \"struct\", \"struct\": {\"vmsd_name\": \"plain\","
                + " \"version\": 1, \"fields\": [{\"name\": \"v\", \"type\": \"int32\", \"size\": 4}]}, \"size\": 4}, "
                + "{\"name\": \"parts\", \"index\": 0, \"type\": \"struct\", \"struct\": {\"vmsd_name\": \"part\","
                + " \"version\": 4, \"fields\": [{\"name\": \"v\", \"type\": \"int32\", \"size\": 4}]}, \"size\": 4}, "
                + "{\"name\": \"parts\", \"index\": 1, \"type\": \"struct\", \"struct\": {\"vmsd_name\": \"part\","
                + " \"version\": 4, \"fields\": [{\"name\": \"v\", \"type\": \"int32\", \"size\": 4}],"
                + " \"subsections\": [{\"vmsd_name\": \"part/extra\", \"version\": 1, \"fields\": [{\"name\": \"extra\","
                + " \"type\": \"uint8\", \"size\": 1}]}]}, \"size\": 21}, "
                + "{\"name\": \"t\", \"type\": \"uint8\", \"size\": 1}], "
                + "\"subsections\": [{\"vmsd_name\": \"dev/b\", \"version\": 1, \"fields\": [{\"name\": \"b\","
                + " \"type\": \"uint16\", \"size\": 2}]}]", vmdesc.toString());
        assertEquals(List.of("part.pre_save", "part.post_save", "part.pre_save", "part.post_save"), log);
    }

    @Test
    void jsonStringsAreEscapedLikeQemu() {
        StringBuilder sb = new StringBuilder();
        org.savevm.stream.json.JsonText.appendQuoted(sb, "a\"b\\c\n\u0001\u007f\u00e9\ud83d\ude00");
        assertEquals("\"a\\\"b\\\\c\\n\\u0001\\u007F\\u00E9\\uD83D\\uDE00\"", sb.toString());
    }
}
