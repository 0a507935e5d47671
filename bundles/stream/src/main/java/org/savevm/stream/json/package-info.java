/**
 * QEMU's JSON string quoting (qobject/json-writer.c), the one copy for everything that writes JSON into
 * a stream: the vmdesc trailer's envelope (savevm core) and its device entries (vmstate).
 */
@Export
@Version("1.0.0")
package org.savevm.stream.json;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
