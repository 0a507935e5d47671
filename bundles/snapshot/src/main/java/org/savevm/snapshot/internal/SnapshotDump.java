package org.savevm.snapshot.internal;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

import org.savevm.api.block.SnapshotInfo;
import org.savevm.snapshot.SnapshotListing;
import org.savevm.stream.Printable;

/**
 * The text of QEMU 7.2's {@code info snapshots} (hmp_info_snapshots with block/qapi.c's bdrv_snapshot_dump and
 * util/cutils.c's size_to_str): the same columns, widths and number formats, dates in the local zone.
 */
public final class SnapshotDump {
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final String[] SUFFIXES = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

    private final ZoneId zone;

    public SnapshotDump(ZoneId zone) {
        this.zone = zone;
    }

    /** The column heads, without a newline. */
    public static String header() {
        return String.format("%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
    }

    /** One snapshot's line, without a newline; {@code id} replaces the snapshot's own id. */
    public String line(SnapshotInfo sn, String id) {
        String date = DATE.format(Instant.ofEpochSecond(sn.dateSeconds()).atZone(zone));
        long ns = sn.vmClockNanos();
        long secs = ns / 1_000_000_000L;
        String clock = String.format("%02d:%02d:%02d.%03d", (int) (secs / 3600), (int) ((secs / 60) % 60),
                (int) (secs % 60), (int) ((ns / 1_000_000) % 1000));
        String icount = sn.icount() == -1 ? "" : Long.toString(sn.icount());
        // names come from image files: control characters are shown escaped
        return String.format("%-9s %-16s %8s%20s%13s%11s", Printable.escape(id), Printable.escape(sn.name()), sizeToStr(sn.vmStateSize()), date, clock,
                icount);
    }

    /** The whole listing, newline-terminated lines. */
    public String format(SnapshotListing listing) {
        if (!listing.anySnapshot()) {
            return "There is no snapshot available.\n";
        }
        StringBuilder sb = new StringBuilder("List of snapshots present on all disks:\n");
        if (listing.onAllDisks().isEmpty()) {
            sb.append("None\n");
        } else {
            sb.append(header()).append('\n');
            for (SnapshotInfo sn : listing.onAllDisks()) {
                // QEMU: the ID is not guaranteed to be the same on all images
                sb.append(line(sn, "--")).append('\n');
            }
        }
        for (SnapshotListing.Partial p : listing.partial()) {
            sb.append("\nList of partial (non-loadable) snapshots on '").append(Printable.escape(p.device())).append("':\n");
            sb.append(header()).append('\n');
            for (SnapshotInfo sn : p.snapshots()) {
                sb.append(line(sn, sn.id())).append('\n');
            }
        }
        return sb.toString();
    }

    /** size_to_str: "%0.3g %sB" of the value in the binary unit that keeps it below 1000. */
    public static String sizeToStr(long val) {
        double scaled = unsigned(val) / (1000.0 / 1024.0);
        // frexp's exponent: scaled = m * 2^e with m in [0.5, 1)
        int e = scaled == 0 ? 0 : Math.getExponent(scaled) + 1;
        int i = (e - 1) / 10;
        if (i < 0) {
            i = 0;
        }
        double div = Math.scalb(1.0, i * 10);
        return formatG3(unsigned(val) / div) + " " + SUFFIXES[i] + "B";
    }

    private static double unsigned(long v) {
        return v >= 0 ? v : (v >>> 1) * 2.0 + (v & 1);
    }

    /** C's "%.3g": three significant digits, trailing zeros dropped, exponent form outside [1e-4, 1e3). */
    static String formatG3(double v) {
        if (v == 0) {
            return "0";
        }
        BigDecimal r = new BigDecimal(v).round(new MathContext(3, RoundingMode.HALF_EVEN));
        int exponent = r.precision() - r.scale() - 1;
        if (exponent >= -4 && exponent < 3) {
            String plain = r.setScale(Math.max(2 - exponent, 0), RoundingMode.UNNECESSARY).toPlainString();
            if (plain.indexOf('.') >= 0) {
                plain = plain.replaceAll("0+$", "");
                if (plain.endsWith(".")) {
                    plain = plain.substring(0, plain.length() - 1);
                }
            }
            return plain;
        }
        String mantissa = r.movePointLeft(exponent).stripTrailingZeros().toPlainString();
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
