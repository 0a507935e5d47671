package org.savevm.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.ops4j.pax.exam.Option;

/**
 * Provisioning from the launcher's own copy of features/*.json (filtered at build time) and the bundles it
 * embeds, unpacked by the build into {@code target/provision}: the tests run exactly what savevm.jar runs.
 */
final class Provision {
    private Provision() {
    }

    static File dir() {
        String d = System.getProperty("savevm.provision");
        if (d == null) {
            throw new IllegalStateException("system property savevm.provision is not set (run the tests with mvn verify)");
        }
        return new File(d);
    }

    /** The launcher jar the build put under target/provision/extra. */
    static File launcherJar() {
        return new File(dir(), "extra/launcher.jar");
    }

    static File exampleHandlerJar() {
        return new File(dir(), "extra/example.handler.jar");
    }

    /** Pax Exam options installing every bundle of the feature, leaving out the interactive console ones. */
    static Option[] feature(String name) throws IOException {
        JsonNode feature = new ObjectMapper().readTree(new File(dir(), "features/" + name + ".json"));
        List<Option> options = new ArrayList<>();
        for (JsonNode b : feature.path("bundles")) {
            if (b.path("savevm.interactive-only").asBoolean(false)) {
                continue;
            }
            String[] gav = b.path("id").asText().split(":");
            File jar = new File(dir(), "bundles/" + gav[1] + "-" + gav[2] + ".jar");
            if (!jar.isFile()) {
                throw new IOException("feature " + name + " names " + b.path("id").asText() + " but " + jar + " is missing");
            }
            options.add(bundle(jar.toURI().toString()));
        }
        if (options.isEmpty()) {
            throw new IOException("feature " + name + " has no bundles");
        }
        return options.toArray(Option[]::new);
    }
}
