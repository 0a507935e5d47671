package org.savevm.api.settings;

import java.util.Set;

/**
 * Which of QEMU's migration capabilities and parameters a bundle implements, registered as an OSGi service by
 * that bundle (the ram handler: xbzrle, compress, ...; a block handler: block, block-incremental). The
 * orchestrator lets a capability be switched on, or a parameter be set, only while an installed bundle names it
 * here; when the bundle goes, its capabilities go off. Names are QEMU's ({@link MigrationCapabilities#ALL},
 * {@link MigrationParameters#all()}).
 */
public interface MigrationFeatures {
    /** Capability names this bundle acts on when they are on. */
    Set<String> capabilities();

    /** Parameter names this bundle reads. */
    Set<String> parameters();

    /** A fixed set of names, e.g. for a handler whose features never change. */
    static MigrationFeatures of(Set<String> capabilities, Set<String> parameters) {
        Set<String> c = Set.copyOf(capabilities);
        Set<String> p = Set.copyOf(parameters);
        return new MigrationFeatures() {
            @Override
            public Set<String> capabilities() {
                return c;
            }

            @Override
            public Set<String> parameters() {
                return p;
            }

            @Override
            public String toString() {
                return "capabilities " + c + ", parameters " + p;
            }
        };
    }
}
