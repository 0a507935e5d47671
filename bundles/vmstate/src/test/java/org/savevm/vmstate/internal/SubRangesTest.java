package org.savevm.vmstate.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.savevm.api.vmstate.VMStateFields.bufferFrom;
import static org.savevm.api.vmstate.VMStateFields.intSubArray;
import static org.savevm.api.vmstate.VMStateFields.structSubArray;
import static org.savevm.api.vmstate.VMStateFields.uint8;
import static org.savevm.vmstate.internal.Bytes.hex;
import static org.savevm.vmstate.internal.Bytes.load;
import static org.savevm.vmstate.internal.Bytes.save;

import java.io.IOException;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateException;
import org.savevm.api.vmstate.VMStateInfos;

/** Fields over part of a member: VMSTATE_SUB_ARRAY, VMSTATE_STRUCT_SUB_ARRAY, VMSTATE_BUFFER_START_MIDDLE. */
class SubRangesTest {
    static final class Reg {
        int v;
    }

    static final class Regs {
        int[] words = {10, 11, 12, 13, 14};
        Reg[] regs = {new Reg(), new Reg(), new Reg()};
        byte[] config = {1, 2, 3, 4, 5, 6};
    }

    static final VMStateDescription<Reg> REG = VMStateDescription.builder("reg", Reg.class).version(1)
            .minimumVersion(1).field(uint8("v", r -> r.v, (r, v) -> r.v = v)).build();

    static final VMStateDescription<Regs> D = VMStateDescription.builder("regs", Regs.class).version(1)
            .minimumVersion(1)
            .field(intSubArray("words", 2, 3, VMStateInfos.UINT16, 2, r -> r.words))
            .field(structSubArray("regs", 1, 2, REG, r -> r.regs))
            .field(bufferFrom("config", 4, 6, r -> r.config))
            .build();

    @Test
    void onlyTheRangeTravels() throws IOException {
        Regs r = new Regs();
        r.regs[0].v = 0xaa;
        r.regs[1].v = 0xbb;
        r.regs[2].v = 0xcc;
        assertEquals("000c000d000e" + "bbcc" + "0506", hex(save(D, r)));

        Regs back = new Regs();
        load(D, back, 1, hex("0102 0304 0506 77 88 f0f1"));
        assertEquals("[10, 11, 258, 772, 1286]", Arrays.toString(back.words));
        assertEquals(0, back.regs[0].v);
        assertEquals(0x77, back.regs[1].v);
        assertEquals(0x88, back.regs[2].v);
        assertEquals("01020304f0f1", hex(back.config));
    }

    @Test
    void aMemberShorterThanTheRangeIsRefused() {
        Regs small = new Regs();
        small.words = new int[4];
        VMStateException e = assertThrows(VMStateException.class, () -> load(D, small, 1, hex("0102 0304 0506")));
        assertEquals("words", e.field());
        assertTrue(e.getMessage().contains("3 elements do not fit the 2 the state holds"), e.getMessage());
    }
}
