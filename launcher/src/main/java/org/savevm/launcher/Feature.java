package org.savevm.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The parts of an OSGi R8 feature file (Feature Service spec, chapter 159) the launcher uses: its id and
 * its bundles in start order. A bundle entry may carry {@code "savevm.interactive-only": true} for
 * bundles that only the interactive shell needs (Gogo's JLine console).
 */
record Feature(String id, List<BundleRef> bundles) {

    /** One bundle entry: Maven coordinates {@code groupId:artifactId:version}. */
    record BundleRef(String groupId, String artifactId, String version, boolean interactiveOnly) {
        /** The name maven-dependency-plugin's copy-dependencies gives the jar. */
        String fileName() {
            return artifactId + "-" + version + ".jar";
        }

        @Override
        public String toString() {
            return groupId + ":" + artifactId + ":" + version;
        }
    }

    static Feature parse(String json, String source) {
        Object root = Json.parse(json);
        if (!(root instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(source + ": not a JSON object");
        }
        Object id = m.get("id");
        Object list = m.get("bundles");
        if (!(id instanceof String) || !(list instanceof List<?> entries)) {
            throw new IllegalArgumentException(source + ": a feature needs \"id\" and \"bundles\"");
        }
        List<BundleRef> bundles = new ArrayList<>();
        for (Object e : entries) {
            Object bid = e instanceof Map<?, ?> bm ? bm.get("id") : e;
            if (!(bid instanceof String s)) {
                throw new IllegalArgumentException(source + ": bundle entry without an id: " + e);
            }
            String[] gav = s.split(":");
            if (gav.length != 3 || s.contains("${")) {
                throw new IllegalArgumentException(source + ": bundle id '" + s + "' is not groupId:artifactId:version");
            }
            boolean interactive = e instanceof Map<?, ?> bm && Boolean.TRUE.equals(bm.get("savevm.interactive-only"));
            bundles.add(new BundleRef(gav[0], gav[1], gav[2], interactive));
        }
        return new Feature((String) id, List.copyOf(bundles));
    }
}
