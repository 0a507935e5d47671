/**
 * The one walker of a QEMU 7.2 migration stream: header, configuration section, section headers and
 * footers, commands (decoded through QEMU's one command table), EOF and the vmdesc trailer, with
 * PACKAGED blobs walked as nested streams. The loader and analyze-stream are both
 * {@link org.savevm.core.walk.StreamVisitor}s of a {@link org.savevm.core.walk.StreamWalker}; a visitor
 * consumes each section body and the walker checks the footer after it.
 */
@Export
@Version("1.0.0")
package org.savevm.core.walk;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
