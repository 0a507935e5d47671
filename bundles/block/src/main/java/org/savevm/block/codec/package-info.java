/**
 * The wire format of the "block" section, QEMU 7.2's migration/block.c records: a be64 of
 * {@code sector << 9 | flags}, then for a device block the counted device name and, unless it is a
 * zero block, 1 MiB of data (also for the short last chunk of a device); progress records carry a
 * percentage in place of the sector; EOS ends each section. The block handler's save and load sessions
 * and analyze-stream's block reader use this one codec.
 */
@Export
@Version("1.0.0")
package org.savevm.block.codec;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
