/**
 * The framing of a QEMU 7.2 stream (savevm.c's, not any section's format): section types, section
 * headers and footers, the file header, the vmdesc trailer, the framing switches, for writers and for
 * visitors of the {@link org.savevm.framing.walk.StreamWalker}.
 *
 * <p>1.0.0: was {@code org.savevm.core.framing} of the savevm bundle.
 * <p>2.0.0: {@code VmDescription.readAndDiscard} removed: the walker reads the trailer in both its modes.
 */
@Export
@Version("2.0.0")
package org.savevm.framing;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
