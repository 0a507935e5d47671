package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.LoadReport;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.migration.commands.InfoMigrateCommand;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;

/** issue 13 item 2: info-migrate on the destination shows what the load received (the core's LoadReport). */
class InfoMigrateLoadReportTest {
    @TempDir
    Path dir;

    private static String run(MigrationManager m, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, new InfoMigrateCommand(m).run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)), err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void destinationShowsTheSectionsItsLoadReceivedNothingFor() throws Exception {
        String uri = "file:" + dir.resolve("state.mig");
        MigrationManager src = new MigrationManager(new FakeSaveVm(1 << 20, 65536), new FakeGuest(true));
        OutgoingMigration out = src.migrate(uri, MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertFalse(run(src).contains("load "), "the source has no load to report");

        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        dstVm.loadReport = new LoadReport(List.of("'serial' instance 1"), false);
        MigrationManager dst = new MigrationManager(dstVm, new FakeGuest(false));
        IncomingMigration in = dst.incoming(uri, true, MigrationListener.NONE);
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));

        String text = run(dst);
        assertTrue(text.startsWith("status: completed\n"), text);
        assertTrue(text.contains("load vmdesc-checked: no (the stream had no vmdesc trailer)\n"
                + "load not-received: 'serial' instance 1\n"), text);
        String json = run(dst, "--json");
        assertTrue(json.contains("\"load\""), json);
        assertTrue(json.contains("'serial' instance 1"), json);
    }
}
