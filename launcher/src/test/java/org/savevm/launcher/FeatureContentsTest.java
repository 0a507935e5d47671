package org.savevm.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/** The embedded bundles are exactly those the feature files name (the pom's dependency list must follow them). */
class FeatureContentsTest {

    @Test
    void everyFeatureBundleIsEmbeddedAndNothingElse() throws Exception {
        Feature core = EmbeddedFramework.loadFeature("core");
        assertTrue(core.id().startsWith("org.savevm:savevm-core:osgifeature:"), core.id());
        assertFalse(core.id().contains("${"), "version not filtered: " + core.id());
        Set<String> named = new TreeSet<>();
        File features = new File(EmbeddedFramework.class.getResource("/features").toURI());
        for (String f : features.list()) {
            Feature feature = EmbeddedFramework.loadFeature(f.replaceFirst("\\.json$", ""));
            feature.bundles().forEach(b -> named.add(b.fileName()));
        }
        File dir = new File(EmbeddedFramework.class.getResource("/bundles").toURI());
        Set<String> embedded = Arrays.stream(dir.list()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(named, embedded);
    }

    @Test
    void coreHasTheRuntimeAndTheSavevmBundlesInStartOrder() throws Exception {
        var ids = EmbeddedFramework.loadFeature("core").bundles().stream().map(Feature.BundleRef::artifactId).toList();
        assertTrue(ids.indexOf("org.osgi.service.component") < ids.indexOf("org.apache.felix.scr"));
        assertTrue(ids.indexOf("api") < ids.indexOf("registry"));
        assertTrue(ids.containsAll(java.util.List.of("org.apache.felix.fileinstall", "picocli", "jackson-databind",
                "shell", "savevm", "migration", "device.rtc")));
    }

    @Test
    void jlineIsOnlyForTheInteractiveShell() throws Exception {
        var interactive = EmbeddedFramework.loadFeature("core").bundles().stream()
                .filter(Feature.BundleRef::interactiveOnly).map(Feature.BundleRef::artifactId).toList();
        assertEquals(java.util.List.of("jline", "org.apache.felix.gogo.jline"), interactive);
    }
}
