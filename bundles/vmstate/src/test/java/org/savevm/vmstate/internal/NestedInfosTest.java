package org.savevm.vmstate.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.savevm.api.vmstate.VMStateFields.bool;
import static org.savevm.api.vmstate.VMStateFields.int16;
import static org.savevm.api.vmstate.VMStateFields.int32;
import static org.savevm.api.vmstate.VMStateFields.int64;
import static org.savevm.api.vmstate.VMStateFields.qlist;
import static org.savevm.api.vmstate.VMStateFields.qtailq;
import static org.savevm.api.vmstate.VMStateFields.uint32;
import static org.savevm.api.vmstate.VMStateFields.uint64;
import static org.savevm.api.vmstate.VMStateFields.uint8;
import static org.savevm.api.vmstate.VMStateFields.withTmp;
import static org.savevm.vmstate.internal.Bytes.hex;
import static org.savevm.vmstate.internal.Bytes.load;
import static org.savevm.vmstate.internal.Bytes.save;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateException;

/** tmp, qtailq and qlist: the test-vmstate.c cases, vectors from the wire-format facts. */
class NestedInfosTest {
    static final class Elem {
        boolean b;
        int u8;

        Elem() {
        }

        Elem(boolean b, int u8) {
            this.b = b;
            this.u8 = u8;
        }
    }

    static final class Queue {
        int i16;
        final List<Elem> q = new ArrayList<>();
        int i32;
    }

    static final VMStateDescription<Elem> ELEM = VMStateDescription.builder("q_elem", Elem.class).version(1)
            .minimumVersion(1)
            .field(bool("b", e -> e.b, (e, v) -> e.b = v))
            .field(uint8("u8", e -> e.u8, (e, v) -> e.u8 = v)).build();

    static final VMStateDescription<Queue> QUEUE = VMStateDescription.builder("q", Queue.class).version(1)
            .minimumVersion(1)
            .field(int16("i16", s -> s.i16, (s, v) -> s.i16 = v))
            .field(qtailq("q", 1, ELEM, s -> s.q, Elem::new))
            .field(int32("i32", s -> s.i32, (s, v) -> s.i32 = v)).build();

    static final String QUEUE_BYTES = "fe00 01 01 82 01 00 41 00 00011170";

    @Test
    void qtailqSaveAndLoad() throws IOException {
        Queue s = new Queue();
        s.i16 = -512;
        s.q.add(new Elem(true, 130));
        s.q.add(new Elem(false, 65));
        s.i32 = 70000;
        StringBuilder vmdesc = new StringBuilder();
        assertEquals(hex(hex(QUEUE_BYTES)), hex(save(Bytes.ENGINE, QUEUE, s, vmdesc)));
        // QEMU repeats the element vmsd keys in the field object, once per element
        assertTrue(vmdesc.toString().contains("{\"name\": \"q\", \"type\": \"qtailq\", \"vmsd_name\": \"q_elem\","
                + " \"version\": 1, \"fields\": [{\"name\": \"b\", \"type\": \"bool\", \"size\": 1}, {\"name\": \"u8\","
                + " \"type\": \"uint8\", \"size\": 1}], \"vmsd_name\": \"q_elem\", \"version\": 1, \"fields\": ["),
                vmdesc.toString());
        assertTrue(vmdesc.toString().contains("\"size\": 7}"), vmdesc.toString());

        Queue t = new Queue();
        byte[] in = hex(QUEUE_BYTES + "00");
        assertEquals(in.length - 1, load(QUEUE, t, 1, in));
        assertEquals(2, t.q.size());
        assertEquals(130, t.q.get(0).u8);
        assertEquals(65, t.q.get(1).u8);
        assertEquals(70000, t.i32);
    }

    @Test
    void queueOfVersionOutsideTheElementRangeIsRefused() {
        VMStateDescription<Queue> bad = VMStateDescription.builder("q", Queue.class).version(2)
                .field(qlist("q", 2, ELEM, s -> s.q, Elem::new)).build();
        VMStateException e = assertThrows(VMStateException.class, () -> load(bad, new Queue(), 2, hex("00")));
        assertTrue(e.getMessage().contains("q_elem too new"), e.getMessage());
    }

    @Test
    void truncatedQueueFails() {
        VMStateException e = assertThrows(VMStateException.class,
                () -> load(QUEUE, new Queue(), 1, hex("fe00 01 01 82 01")));
        assertEquals("q.q[1]", e.descriptor(), "the innermost descriptor: the second element");
        assertEquals("b", e.field());
        assertEquals(6, e.offset());
    }

    static final class Ids {
        int id;
        final List<Elem> ids = new ArrayList<>();
    }

    @Test
    void qlistKeepsOrder() throws IOException {
        VMStateDescription<Elem> idElem = VMStateDescription.builder("id", Elem.class).version(1).minimumVersion(1)
                .field(uint32("id", e -> e.u8, (e, v) -> e.u8 = v)).build();
        VMStateDescription<Ids> d = VMStateDescription.builder("container", Ids.class).version(1)
                .field(uint32("id", s -> s.id, (s, v) -> s.id = v))
                .field(qlist("ids", 1, idElem, s -> s.ids, Elem::new)).build();
        String bytes = "00000001 01 0000000a 01 00000b00 01 000c0000 01 0d000000 00";
        Ids t = new Ids();
        load(d, t, 1, hex(bytes));
        assertEquals(List.of(0x0a, 0xb00, 0xc0000, 0xd000000), t.ids.stream().map(e -> e.u8).toList());
        assertEquals(hex(hex(bytes)), hex(save(d, t)));
    }

    static final class Parent {
        long a, d, f;
        long b;
    }

    /** The temporary: a back reference to the parent and the difference it carries. */
    static final class Diff {
        final Parent parent;
        long diff;

        Diff(Parent p) {
            this.parent = p;
        }
    }

    @Test
    void tmpTranslatesThroughItsHooks() throws IOException {
        VMStateDescription<Parent> fTail = VMStateDescription.builder("tmp_child_parent", Parent.class).version(0)
                .field(uint64("f", p -> p.f, (p, v) -> p.f = v)).build();
        VMStateDescription<Diff> child = VMStateDescription.builder("tmp_child", Diff.class).version(0)
                .preSave(t -> t.diff = t.parent.b - t.parent.a)
                .postLoad((t, v) -> t.parent.b = t.parent.a + t.diff)
                .field(int64("diff", t -> t.diff, (t, v) -> t.diff = v))
                .field(org.savevm.api.vmstate.VMStateFields.struct("parent", fTail, t -> t.parent))
                .build();
        VMStateDescription<Parent> d = VMStateDescription.builder("tmp", Parent.class).version(1)
                .field(uint32("a", p -> (int) p.a, (p, v) -> p.a = v))
                .field(uint64("d", p -> p.d, (p, v) -> p.d = v))
                .field(withTmp(child, Diff::new)).build();
        Parent p = new Parent();
        p.a = 2;
        p.b = 4;
        p.d = 1;
        p.f = 8;
        StringBuilder vmdesc = new StringBuilder();
        assertEquals("00000002" + "0000000000000001" + "0000000000000002" + "0000000000000008",
                hex(save(Bytes.ENGINE, d, p, vmdesc)));
        assertTrue(vmdesc.toString().contains("{\"name\": \"tmp\", \"type\": \"tmp\", \"vmsd_name\": \"tmp_child\","
                + " \"version\": 0, \"fields\": [{\"name\": \"diff\", \"type\": \"int64\", \"size\": 8}, {\"name\":"
                + " \"parent\", \"type\": \"struct\", \"struct\": {\"vmsd_name\": \"tmp_child_parent\", \"version\": 0,"
                + " \"fields\": [{\"name\": \"f\", \"type\": \"uint64\", \"size\": 8}]}, \"size\": 8}], \"size\": 16}"),
                vmdesc.toString());
        Parent q = new Parent();
        load(d, q, 1, hex("00000002 0000000000000001 0000000000000002 0000000000000008 00"));
        assertEquals(4, q.b);
        assertEquals(8, q.f);
    }
}
