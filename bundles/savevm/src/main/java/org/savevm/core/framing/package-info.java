/**
 * The framing of a QEMU 7.2 stream that the savevm core owns: section types, section headers and
 * footers, the file header and the vmdesc trailer, for writers and for visitors of the
 * {@link org.savevm.core.walk.StreamWalker}.
 */
@Export
@Version("1.0.0")
package org.savevm.core.framing;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
