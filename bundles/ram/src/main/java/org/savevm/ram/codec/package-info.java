/**
 * The wire format of the "ram" section, QEMU 7.2's ram.c records: the record header (flags and page
 * offset), XBZRLE with its small ULEB128, zlib-compressed pages, and the checked reads of the XBZRLE
 * and compressed-page headers. The ram handler's load and save sessions and the ram section analyzer
 * use this one codec.
 */
@Export
@Version("1.0.0")
package org.savevm.ram.codec;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
