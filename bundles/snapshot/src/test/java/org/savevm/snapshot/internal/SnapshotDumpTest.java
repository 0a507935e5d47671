package org.savevm.snapshot.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.ZoneOffset;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.snapshot.SnapshotListing;

/** The text of QEMU 7.2's info snapshots, byte for byte (compared with qemu-img 7.2's snapshot -l). */
class SnapshotDumpTest {
    @Test
    void sizesAsSizeToStr() {
        assertEquals("0 B", SnapshotDump.sizeToStr(0));
        assertEquals("999 B", SnapshotDump.sizeToStr(999));
        assertEquals("0.977 KiB", SnapshotDump.sizeToStr(1000));
        assertEquals("1 KiB", SnapshotDump.sizeToStr(1024));
        assertEquals("591 KiB", SnapshotDump.sizeToStr(591 * 1024 + 100));
        assertEquals("1.5 MiB", SnapshotDump.sizeToStr(3L << 19));
        assertEquals("12.3 MiB", SnapshotDump.sizeToStr((long) (12.3 * (1 << 20))));
        assertEquals("16 EiB", SnapshotDump.sizeToStr(-1L));
        assertEquals("1e+03", SnapshotDump.formatG3(999.7));
        assertEquals("0.000123", SnapshotDump.formatG3(0.000123));
    }

    @Test
    void linesAsQemuImgPrintsThem() {
        // qemu-img 7.2 snapshot -l of a qemu-img snapshot -c (icount 0), TZ=UTC
        String header = "ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT";
        String line = "1         s1                    0 B 2026-12-03 11:43:09 00:00:00.000          0";
        SnapshotDump dump = new SnapshotDump(ZoneOffset.UTC);
        assertEquals(header, SnapshotDump.header());
        assertEquals(line, dump.line(new SnapshotInfo("1", "s1", 0, 1796298189L, 0, 0, 0, 1 << 20), "1"));
        SnapshotInfo sn = new SnapshotInfo("3", "before-upgrade", 25_000_000, 1796298189L, 5, 3_723_456_000_000L,
                -1, 1 << 20);
        assertEquals("--        before-upgrade   23.8 MiB 2026-12-03 11:43:09 01:02:03.456           ",
                dump.line(sn, "--"));
    }

    @Test
    void listingAsHmpInfoSnapshots() {
        SnapshotDump dump = new SnapshotDump(ZoneOffset.UTC);
        SnapshotInfo a = new SnapshotInfo("1", "a", 2048, 1796298189L, 0, 0, -1, 1 << 20);
        SnapshotInfo b = new SnapshotInfo("2", "b", 0, 1796298189L, 0, 0, -1, 1 << 20);
        assertEquals("There is no snapshot available.\n", dump.format(new SnapshotListing(false, List.of(), List.of())));
        String h = SnapshotDump.header();
        assertEquals("List of snapshots present on all disks:\n" + h + "\n" + dump.line(a, "--") + "\n"
                + "\nList of partial (non-loadable) snapshots on 'disk1':\n" + h + "\n" + dump.line(b, "2") + "\n",
                dump.format(new SnapshotListing(true, List.of(a),
                        List.of(new SnapshotListing.Partial("disk1", List.of(b))))));
        assertEquals("List of snapshots present on all disks:\nNone\n"
                + "\nList of partial (non-loadable) snapshots on 'disk1':\n" + h + "\n" + dump.line(b, "2") + "\n",
                dump.format(new SnapshotListing(true, List.of(),
                        List.of(new SnapshotListing.Partial("disk1", List.of(b))))));
    }
}
