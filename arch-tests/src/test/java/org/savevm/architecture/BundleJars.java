package org.savevm.architecture;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Manifest;

/**
 * The savevm bundles on the test class path, read from their MANIFEST: where each one's classes are (its jar, or
 * its classes directory when Maven resolves the reactor module to it) and which packages it exports. Which bundle
 * owns a class is which of these locations it was read from.
 */
final class BundleJars {
    /** One bundle: its symbolic name, where its classes are and its Export-Package names. */
    record Bundle(String symbolicName, Path location, Set<String> exports) {
        boolean owns(String sourceUri) {
            return sourceUri.contains(location.toUri().getRawPath());
        }
    }

    private BundleJars() {
    }

    static List<Bundle> onClassPath() throws IOException {
        List<Bundle> out = new ArrayList<>();
        Enumeration<URL> manifests = BundleJars.class.getClassLoader().getResources("META-INF/MANIFEST.MF");
        while (manifests.hasMoreElements()) {
            URL url = manifests.nextElement();
            Manifest mf;
            try (InputStream in = url.openStream()) {
                mf = new Manifest(in);
            }
            String bsn = mf.getMainAttributes().getValue("Bundle-SymbolicName");
            if (bsn == null || !bsn.startsWith("org.savevm.")) {
                continue;
            }
            bsn = bsn.split(";")[0].trim();
            out.add(new Bundle(bsn, location(url), packageNames(mf.getMainAttributes().getValue("Export-Package"))));
        }
        return out;
    }

    private static Path location(URL manifest) throws IOException {
        try {
            if (manifest.getProtocol().equals("jar")) {
                return Path.of(((JarURLConnection) manifest.openConnection()).getJarFileURL().toURI());
            }
            // .../classes/META-INF/MANIFEST.MF
            return Path.of(manifest.toURI()).getParent().getParent();
        } catch (URISyntaxException e) {
            throw new IOException("manifest location " + manifest, e);
        }
    }

    /** The package names of an OSGi Export-Package header (clauses split at commas outside quotes). */
    static Set<String> packageNames(String header) {
        Set<String> names = new LinkedHashSet<>();
        if (header == null || header.isBlank()) {
            return names;
        }
        StringBuilder clause = new StringBuilder();
        boolean quoted = false;
        for (char c : (header + ",").toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                for (String name : clause.toString().split(";")) {
                    // A clause may name several packages before its attributes: "a;b;version=1".
                    if (name.contains("=")) {
                        break;
                    }
                    names.add(name.trim());
                }
                clause.setLength(0);
            } else {
                clause.append(c);
            }
        }
        return names;
    }
}
