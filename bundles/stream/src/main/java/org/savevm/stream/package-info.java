/**
 * Migration stream I/O: the role of QEMU's QEMUFile. Big-endian, buffered, with a byte position that
 * error messages quote, a sticky first error and a rate-limit hook.
 */
@Export
@Version("1.2.0")
package org.savevm.stream;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
