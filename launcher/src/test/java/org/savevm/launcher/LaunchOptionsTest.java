package org.savevm.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class LaunchOptionsTest {

    @Test
    void launcherOptionsStopAtTheCommand() {
        LaunchOptions o = LaunchOptions.parse(new String[] {"--deploy", "/tmp/d", "--feature", "ram", "migrate", "--speed", "1"});
        assertEquals(Path.of("/tmp/d"), o.deployDir());
        assertEquals(List.of("core", "ram"), o.features());
        assertEquals(List.of("migrate", "--speed", "1"), o.command());
    }

    @Test
    void objectsAreKeptInOrderForObjectAdd() {
        LaunchOptions o = LaunchOptions.parse(new String[] {"--object", "tls-creds-x509,id=tls0,dir=/d,endpoint=server",
            "--object", "authz-list,id=a,rules.0.match=CN=x,,O=y,rules.0.policy=allow", "incoming", "tcp::4444"});
        assertEquals(List.of("tls-creds-x509,id=tls0,dir=/d,endpoint=server",
                "authz-list,id=a,rules.0.match=CN=x,,O=y,rules.0.policy=allow"), o.objects());
        assertEquals(List.of("incoming", "tcp::4444"), o.command());
        assertThrows(IllegalArgumentException.class, () -> LaunchOptions.parse(new String[] {"--object"}));
    }

    @Test
    void noCommandIsInteractiveWithDefaultDeployDir() {
        LaunchOptions o = LaunchOptions.parse(new String[0]);
        assertTrue(o.interactive());
        assertEquals(Path.of("deploy").toAbsolutePath().normalize(), o.deployDir());
    }

    @Test
    void unknownOptionOrMissingValueIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> LaunchOptions.parse(new String[] {"--bogus", "x"}));
        assertThrows(IllegalArgumentException.class, () -> LaunchOptions.parse(new String[] {"--deploy"}));
    }

    @Test
    void featureJsonParsesEscapesAndRefusesBadIds() {
        Feature f = Feature.parse("{\"id\":\"g:f:osgifeature:1\",\"bundles\":[{\"id\":\"a:b\\u0063:1.0\"},"
                + "{\"id\":\"x:y:2\",\"savevm.interactive-only\":true}]}", "t");
        assertEquals("bc", f.bundles().get(0).artifactId());
        assertTrue(f.bundles().get(1).interactiveOnly());
        assertThrows(IllegalArgumentException.class, () -> Feature.parse("{\"id\":\"x\",\"bundles\":[{\"id\":\"a:b\"}]}", "t"));
        assertThrows(IllegalArgumentException.class, () -> Feature.parse("{\"id\":\"x\",\"bundles\":[", "t"));
    }

    @Test
    void machineOptionsBecomeTheMachineBundlesFrameworkProperties() {
        LaunchOptions o = LaunchOptions.parse(new String[] {"--ram", "1G", "--disk", "a.qcow2", "--disk",
                "b.raw,format=raw,id=hd1", "--disk-dirty-rate", "4M", "savevm", "s1"});
        assertEquals(java.util.Map.of("savevm.machine.ram", "1G", "savevm.machine.disks", "a.qcow2\nb.raw,format=raw,id=hd1",
                "savevm.machine.disk-dirty-rate", "4M"), o.frameworkProperties());
        assertEquals(List.of("savevm", "s1"), o.command());
        assertEquals(java.util.Map.of(), LaunchOptions.parse(new String[] {"machine"}).frameworkProperties());
        String m = assertThrows(IllegalArgumentException.class,
                () -> LaunchOptions.parse(new String[] {"--disk"})).getMessage();
        assertTrue(m.contains("'--disk' needs a value"), m);
    }
}
