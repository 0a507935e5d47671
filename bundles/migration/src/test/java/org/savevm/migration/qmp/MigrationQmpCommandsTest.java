package org.savevm.migration.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.savevm.api.qmp.QmpError;
import org.savevm.api.qmp.QmpEvents;
import org.savevm.api.settings.MigrationFeatures;
import org.savevm.migration.FakeGuest;
import org.savevm.migration.FakeSaveVm;
import org.savevm.migration.internal.MigrationManager;

/** The migration bundle's QMP commands over a real orchestrator (the wire protocol: the qmp bundle, QmpIT). */
class MigrationQmpCommandsTest {
    private final MigrationManager manager = new MigrationManager(new FakeSaveVm(1 << 20, 65536), new FakeGuest(true));
    private final MigrationQmpCommands qmp = new MigrationQmpCommands(manager);

    private Object run(String command, Map<String, Object> args) throws QmpError {
        return qmp.commands().get(command).execute(args, QmpEvents.NONE);
    }

    private static Map<String, Object> cap(String name, boolean state) {
        return Map.of("capability", name, "state", state);
    }

    /** QEMU checks the whole new set first: a refused capability leaves the request's others as they were. */
    @Test
    void capabilitiesChangeAllOrNothing() throws Exception {
        manager.addFeatures(MigrationFeatures.of(java.util.Set.of("xbzrle"), java.util.Set.of()));
        QmpError e = assertThrows(QmpError.class, () -> run("migrate-set-capabilities",
                Map.of("capabilities", List.of(cap("xbzrle", true), cap("postcopy-preempt", true)))));
        assertTrue(e.getMessage().contains("postcopy-preempt"), e.getMessage());
        assertFalse(manager.config().capabilities().contains("xbzrle"));
        run("migrate-set-capabilities", Map.of("capabilities", List.of(cap("xbzrle", true))));
        assertTrue(manager.config().capabilities().contains("xbzrle"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> listed = (List<Map<String, Object>>) run("query-migrate-capabilities", Map.of());
        assertTrue(listed.contains(Map.of("capability", "xbzrle", "state", true)), listed.toString());
    }

    /** Typed values: sizes in bytes (the HMP text reads a bare number as MiB), booleans, enum names. */
    @Test
    void parametersAreQapiTyped() throws Exception {
        run("migrate-set-parameters", Map.of("max-bandwidth", 1000, "downtime-limit", 5));
        @SuppressWarnings("unchecked")
        Map<String, Object> p = (Map<String, Object>) run("query-migrate-parameters", Map.of());
        assertEquals(1000L, ((Number) p.get("max-bandwidth")).longValue());
        assertEquals(5L, ((Number) p.get("downtime-limit")).longValue());
        assertEquals(Boolean.TRUE, p.get("compress-wait-thread"));
        assertEquals("none", p.get("multifd-compression"));
        // one refused value: nothing of the request applies
        QmpError e = assertThrows(QmpError.class, () -> run("migrate-set-parameters",
                new java.util.TreeMap<>(Map.of("downtime-limit", 7, "max-bandwidth", "x"))));
        assertEquals("Parameter 'max-bandwidth' expects uint64", e.getMessage());
        assertEquals(5L, manager.config().parameter("downtime-limit"));
    }

    @Test
    void migrationEventsOnlyWithTheEventsCapability() throws Exception {
        List<String> seen = new ArrayList<>();
        QmpEvents events = (name, data) -> seen.add(name + " " + data);
        // no listener call happens without a migration; the events capability is offered by the monitor bundle
        manager.addFeatures(MigrationFeatures.of(java.util.Set.of("events"), java.util.Set.of()));
        run("migrate-set-capabilities", Map.of("capabilities", List.of(cap("events", true))));
        qmp.commands().get("stop").execute(Map.of(), events);
        assertEquals(List.of("STOP {}"), seen);
        assertEquals(Map.of("status", "paused", "singlestep", false, "running", false),
                run("query-status", Map.of()));
        qmp.commands().get("cont").execute(Map.of(), events);
        assertEquals(List.of("STOP {}", "RESUME {}"), seen);
        assertEquals(Map.of(), run("query-migrate", Map.of()));
    }
}
