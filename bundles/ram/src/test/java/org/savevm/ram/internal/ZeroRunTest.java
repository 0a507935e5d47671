package org.savevm.ram.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.RamMigrationMonitor;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.machine.internal.SimulatedMachine;
import org.savevm.ram.codec.RamFlags;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * Zero pages found 64 at a time (never-written or swept in one go) give the same records, page by page,
 * as QEMU's save_zero_page; pages with data in such a range go one by one.
 */
class ZeroRunTest {
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;

    @Test
    void zeroRunsWriteOneZeroRecordPerPageAndDataPagesStayNormal() throws Exception {
        try (SimulatedMachine src = new SimulatedMachine("pc-i440fx-7.2", 1L << 20);
                SimulatedMachine dst = new SimulatedMachine("pc-i440fx-7.2", 1L << 20)) {
            RamBlock ram = src.ramBlock("pc.ram").orElseThrow();
            // pages 0-63 never written; 64-127 written with zeros; 128-191 zero but page 150's last byte;
            // 192-255 random
            ram.fill(64 * PAGE, 64 * PAGE, (byte) 0);
            ram.fill(150L * PAGE + PAGE - 1, 1, (byte) 5);
            Random rnd = new Random(3);
            byte[] page = new byte[PAGE];
            for (long p = 192; p < 256; p++) {
                rnd.nextBytes(page);
                page[0] = 1;
                ram.write(p * PAGE, page, 0, PAGE);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            MigrationOutput out = MigrationOutput.of(bytes);
            RamHandler handler = new RamHandler(src);
            MigrationContext context = new MigrationContext(MigrationSettings.DEFAULTS);
            try (LiveStateHandler.SaveSession save = handler.beginSave(context)) {
                save.setup(out);
                while (!save.iterate(out)) {
                    // first pass
                }
                save.completePrecopy(out);
            }
            out.flush();
            RamMigrationStats stats = context.find(RamMigrationMonitor.class).orElseThrow().stats();

            // walk the records of pc.ram: QEMU's layout, one record per page in address order
            List<Long> zero = new ArrayList<>();
            List<Long> normal = new ArrayList<>();
            ByteBuffer s = ByteBuffer.wrap(bytes.toByteArray());
            String block = null;
            while (s.hasRemaining()) {
                long v = s.getLong();
                int flags = (int) (v & 0xfff);
                long addr = v & ~0xfffL;
                if ((flags & RamFlags.MEM_SIZE) != 0) {
                    long left = addr;
                    while (left > 0) {
                        byte[] id = new byte[s.get() & 0xff];
                        s.get(id);
                        left -= s.getLong();
                    }
                    continue;
                }
                if ((flags & RamFlags.EOS) != 0) {
                    continue;
                }
                if ((flags & RamFlags.CONTINUE) == 0) {
                    byte[] id = new byte[s.get() & 0xff];
                    s.get(id);
                    block = new String(id);
                }
                boolean mainRam = "pc.ram".equals(block);
                if ((flags & ~RamFlags.CONTINUE) == RamFlags.ZERO) {
                    assertEquals(0, s.get(), "fill byte of a zero record");
                    if (mainRam) {
                        zero.add(addr / PAGE);
                    }
                } else {
                    assertEquals(RamFlags.PAGE, flags & ~RamFlags.CONTINUE);
                    s.position(s.position() + PAGE);
                    if (mainRam) {
                        normal.add(addr / PAGE);
                    }
                }
            }
            List<Long> wantZero = new ArrayList<>();
            List<Long> wantNormal = new ArrayList<>();
            for (long p = 0; p < 256; p++) {
                (p == 150 || p >= 192 ? wantNormal : wantZero).add(p);
            }
            assertEquals(wantZero, zero);
            assertEquals(wantNormal, normal);
            assertTrue(stats.duplicate() >= 191, "duplicate " + stats.duplicate());

            RamHandler dstHandler = new RamHandler(dst);
            try (LiveStateHandler.LoadSession load = dstHandler.beginLoad(new MigrationContext(MigrationSettings.DEFAULTS))) {
                MigrationInput in = MigrationInput.of(bytes.toByteArray());
                while (!in.atEnd()) {
                    load.load(in, 4);
                }
                load.complete();
            }
            RamBlock dstRam = dst.ramBlock("pc.ram").orElseThrow();
            assertArrayEquals(ram.sha256(), dstRam.sha256());
            assertTrue(dstRam.untouched(10 * PAGE), "a zero record leaves a never-written destination page alone");
            assertFalse(dstRam.untouched(150 * PAGE));
        }
    }
}
