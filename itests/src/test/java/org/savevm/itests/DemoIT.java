package org.savevm.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The main job as a user runs it: {@code java -jar savevm.jar demo} starts a source and a destination
 * process, live-migrates over loopback TCP and verifies RAM and devices by hash; its last line is one
 * JSON object with query-migrate's names.
 */
class DemoIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    @SuppressWarnings("unchecked")
    private Map<String, Object> run(int expectedExit, String... args) throws Exception {
        try (LauncherProcess p = new LauncherProcess(work, args)) {
            int rc = p.exitWithin(240);
            String out = p.out().strip();
            assertEquals(expectedExit, rc, out + "\n" + p.err());
            String last = out.substring(out.lastIndexOf('\n') + 1);
            return JSON.readValue(last, Map.class);
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void liveMigrationWithADirtyingGuestArrivesVerified() throws Exception {
        Map<String, Object> r = run(0, "demo", "--ram", "64M", "--dirty-rate", "20M", "--parameter",
                "max-bandwidth=256M", "--no-progress");
        assertEquals("completed", r.get("status"));
        assertEquals(Boolean.TRUE, r.get("verified"));
        Map<String, Object> ram = (Map<String, Object>) r.get("ram");
        assertTrue(((Number) ram.get("normal")).longValue() >= 16384 / 2, "random RAM went as normal pages: " + ram);
        assertTrue(((Number) ram.get("dirty-sync-count")).longValue() >= 2, ram.toString());
        assertEquals(0, ((Number) ram.get("multifd-bytes")).longValue());
    }

    /**
     * Issue 10's must-show: a guest with a 1 GiB qcow2 disk, its first half random, migrated live with the block
     * capability while the guest keeps writing to it; verified only when both images hash equal.
     */
    @SuppressWarnings("unchecked")
    @Test
    void aQcow2DiskMigratesLiveAndArrivesVerified() throws Exception {
        Map<String, Object> r = run(0, "demo", "--ram", "64M", "--dirty-rate", "8M", "--disk", "1G",
                "--disk-format", "qcow2", "--disk-fill", "half", "--disk-dirty-rate", "2M", "--parameter",
                "max-bandwidth=1T", "--no-progress");
        assertEquals("completed", r.get("status"));
        assertEquals(Boolean.TRUE, r.get("verified"));
        Map<String, Object> disk = (Map<String, Object>) r.get("disk");
        assertEquals(1L << 30, ((Number) disk.get("total")).longValue(), r.toString());
        assertTrue(((Number) disk.get("transferred")).longValue() >= 1L << 29,
                "at least the random half went over: " + disk);
        assertEquals(0, ((Number) disk.get("remaining")).longValue(), disk.toString());
    }

    @SuppressWarnings("unchecked")
    @Test
    void multifdCarriesThePagesAndArrivesVerified() throws Exception {
        Map<String, Object> r = run(0, "demo", "--ram", "64M", "--dirty-rate", "20M", "--capability", "multifd",
                "--parameter", "multifd-channels=3", "--parameter", "max-bandwidth=1T", "--no-progress");
        assertEquals("completed", r.get("status"));
        assertEquals(Boolean.TRUE, r.get("verified"));
        Map<String, Object> ram = (Map<String, Object>) r.get("ram");
        long multifd = ((Number) ram.get("multifd-bytes")).longValue();
        assertTrue(multifd >= 64L << 20, "the 64 MiB of random pages went through the channels: " + ram);
        assertTrue(((Number) ram.get("transferred")).longValue() >= multifd, ram.toString());
    }

    /**
     * A guest that dirties all of RAM faster than max-bandwidth (precopy would never converge): the demo
     * switches to postcopy half way through, the destination's vCPU reads pages while the rest arrives, and
     * the destination ends with the source's RAM. query-migrate's postcopy members are in the JSON.
     */
    @SuppressWarnings("unchecked")
    @Test
    void postcopyCompletesAGuestPrecopyCouldNotCatchUpWith() throws Exception {
        Map<String, Object> r = run(0, "demo", "--ram", "64M", "--dirty-rate", "64M", "--hot-fraction", "1",
                "--capability", "postcopy-ram", "--capability", "postcopy-blocktime", "--postcopy-after", "50",
                "--parameter", "max-bandwidth=16M", "--no-progress");
        assertEquals("completed", r.get("status"));
        assertEquals(Boolean.TRUE, r.get("verified"));
        Map<String, Object> ram = (Map<String, Object>) r.get("ram");
        assertTrue(((Number) ram.get("postcopy-bytes")).longValue() >= 16L << 20,
                "a good part of RAM went after the switch: " + ram);
        assertTrue(ram.containsKey("postcopy-requests"), ram.toString());
        assertTrue(r.get("postcopy-blocktime") instanceof Number, r.toString());
        assertTrue(r.get("postcopy-vcpu-blocktime") instanceof java.util.List<?>, r.toString());
    }

    /**
     * Postcopy recovery as a user sees it: the link (both ways) breaks twice after the switch; both ends pause,
     * the destination runs migrate-recover, the source migrate -r, and the migration completes verified.
     */
    @SuppressWarnings("unchecked")
    @Test
    void postcopyRecoversFromALinkBrokenTwice() throws Exception {
        Map<String, Object> r = run(0, "demo", "--ram", "64M", "--dirty-rate", "64M", "--hot-fraction", "1",
                "--capability", "postcopy-ram", "--postcopy-after", "50", "--parameter", "max-bandwidth=16M",
                "--parameter", "max-postcopy-bandwidth=16M", "--cut-after", "44M,56M", "--recover", "--no-progress");
        assertEquals("completed", r.get("status"));
        assertEquals(Boolean.TRUE, r.get("verified"));
        Map<String, Object> recovery = (Map<String, Object>) r.get("recovery");
        assertEquals(2, ((Number) recovery.get("cuts")).intValue(), recovery.toString());
        assertEquals(2, ((Number) recovery.get("source-pauses")).intValue(), recovery.toString());
        assertEquals(2, ((Number) recovery.get("destination-pauses")).intValue(), recovery.toString());
    }

    @SuppressWarnings("unchecked")
    @Test
    void aBrokenLinkFailsBothEndsCleanly() throws Exception {
        Map<String, Object> r = run(0, "demo", "--ram", "64M", "--dirty-rate", "0", "--cut-after", "20M",
                "--no-progress");
        assertEquals(Boolean.FALSE, r.get("verified"));
        Map<String, Object> fault = (Map<String, Object>) r.get("fault");
        assertEquals(Boolean.TRUE, fault.get("contained"), fault.toString());
        // an idle guest: RAM byte for byte as before the migration
        assertEquals(Boolean.TRUE, fault.get("source-ram-intact"), fault.toString());
        assertEquals("failed", fault.get("destination-status"), fault.toString());
        assertEquals(Boolean.FALSE, fault.get("destination-guest-running"), fault.toString());

        // the same with multifd: the relay counts and cuts the channels as well
        r = run(0, "demo", "--ram", "64M", "--dirty-rate", "0", "--cut-after", "20M", "--capability", "multifd",
                "--no-progress");
        fault = (Map<String, Object>) r.get("fault");
        assertEquals(Boolean.TRUE, fault.get("contained"), fault.toString());
        assertEquals(Boolean.TRUE, fault.get("source-ram-intact"), fault.toString());
        assertEquals("failed", fault.get("destination-status"), fault.toString());

        // a running guest keeps running on the source
        r = run(0, "demo", "--ram", "64M", "--dirty-rate", "10M", "--cut-after", "30M", "--no-progress");
        fault = (Map<String, Object>) r.get("fault");
        assertEquals(Boolean.TRUE, fault.get("contained"), fault.toString());
        assertEquals(Boolean.TRUE, fault.get("source-guest-running"), fault.toString());
        assertEquals("failed", fault.get("destination-status"), fault.toString());
    }
}
