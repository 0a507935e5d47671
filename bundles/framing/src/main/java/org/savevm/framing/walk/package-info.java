/**
 * The one walker of a QEMU 7.2 migration stream: header, configuration section, section headers and
 * footers, commands (decoded through QEMU's one command table), EOF and the vmdesc trailer, with
 * PACKAGED blobs walked as nested streams. The loader, analyze-stream and the tests' corpus walkers are
 * all {@link org.savevm.framing.walk.StreamVisitor}s of a {@link org.savevm.framing.walk.StreamWalker}; a
 * visitor consumes each section body and the walker checks the footer after it.
 *
 * <p>1.0.0: was {@code org.savevm.core.walk} of the savevm bundle.
 * <p>1.1.0: {@code StreamVisitor.vmdescJson}: a visitor may read the trailer's JSON (the loader checks it).
 * <p>1.2.0: {@code StreamWalker.resume}: the walk goes on on a new channel (postcopy recovery).
 */
@Export
@Version("1.2.0")
package org.savevm.framing.walk;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
