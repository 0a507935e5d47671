package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.savevm.api.migration.MigrationUri;
import org.savevm.api.migration.MigrationUri.Scheme;

class MigrationUriTest {
    @Test
    void parsesQemusForms() {
        MigrationUri t = MigrationUri.parse("tcp:127.0.0.1:4444");
        assertEquals(Scheme.TCP, t.scheme());
        assertEquals("127.0.0.1", t.host());
        assertEquals(4444, t.port());
        assertEquals("", MigrationUri.parse("tcp::4444").host());
        assertEquals("::1", MigrationUri.parse("tcp:[::1]:5555").host());
        assertEquals("tcp:[::1]:5555", MigrationUri.parse("tcp:[::1]:5555").toString());
        assertEquals("/tmp/s", MigrationUri.parse("unix:/tmp/s").path());
        assertEquals("/tmp/f", MigrationUri.parse("file:/tmp/f").path());
        assertEquals("cat > /dev/null", MigrationUri.parse("exec:cat > /dev/null").path());
    }

    @Test
    void refusesBadAddresses() {
        assertThrows(IllegalArgumentException.class, () -> MigrationUri.parse("rdma:host:1"));
        assertThrows(IllegalArgumentException.class, () -> MigrationUri.parse("tcp:host"));
        assertThrows(IllegalArgumentException.class, () -> MigrationUri.parse("tcp:host:99999"));
        assertThrows(IllegalArgumentException.class, () -> MigrationUri.parse("tcp:host:x"));
        assertThrows(IllegalArgumentException.class, () -> MigrationUri.parse("file:"));
        assertThrows(IllegalArgumentException.class, () -> MigrationUri.parse("nothing"));
    }
}
