package org.savevm.ram.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamMigrationMonitor;
import org.savevm.api.machine.RamMigrationStats;
import org.savevm.stream.MigrationOutput;

/**
 * A whole migration stream whose only section is our "ram", framed by hand as QEMU 7.2 frames it (header,
 * configuration pc-i440fx-7.2, START/PART/END with footers, EOF, an empty vmdesc), so that only the ram
 * handler's bytes are under test. Shared with other bundles' tests through this module's test jar.
 */
public final class RamOnlyStream {
    private static final int SECTION_ID = 2;

    private RamOnlyStream() {
    }

    /**
     * Writes the stream: setup, then {@code rounds} full passes with {@code betweenRounds} (e.g. guest
     * writes) and a dirty-log sync after each, then the completion. Returns the handler's stats.
     */
    public static RamMigrationStats write(MigrationOutput out, Machine m, MigrationSettings settings, int rounds,
            Runnable betweenRounds) throws IOException {
        return write(out, m, new MigrationContext(settings), rounds, betweenRounds);
    }

    /** As above, for a migration whose context carries more (e.g. the multifd channels). */
    public static RamMigrationStats write(MigrationOutput out, Machine m, MigrationContext context, int rounds,
            Runnable betweenRounds) throws IOException {
        out.putBe32(0x5145564d).putBe32(3);
        out.putByte(0x07).putBe32(13).putBytes("pc-i440fx-7.2".getBytes(StandardCharsets.US_ASCII));
        RamHandler handler = new RamHandler(m);
        try (LiveStateHandler.SaveSession save = handler.beginSave(context)) {
            out.putByte(0x01).putBe32(SECTION_ID).putCountedString("ram").putBe32(0).putBe32(4);
            save.setup(out);
            footer(out);
            for (int round = 0; round < rounds; round++) {
                boolean done = false;
                while (!done) {
                    out.putByte(0x02).putBe32(SECTION_ID);
                    done = save.iterate(out);
                    footer(out);
                }
                betweenRounds.run();
                save.pending(true);
            }
            out.putByte(0x03).putBe32(SECTION_ID);
            save.completePrecopy(out);
            footer(out);
        }
        out.putByte(0x00);
        byte[] vmdesc = "{\"page_size\": 4096, \"devices\": []}".getBytes(StandardCharsets.US_ASCII);
        out.putByte(0x06).putBe32(vmdesc.length).putBytes(vmdesc);
        out.flush();
        return context.find(RamMigrationMonitor.class).orElseThrow().stats();
    }

    private static void footer(MigrationOutput out) {
        out.putByte(0x7e).putBe32(SECTION_ID);
    }
}
