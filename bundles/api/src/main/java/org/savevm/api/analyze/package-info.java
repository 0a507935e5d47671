/**
 * The SPI of analyze-stream: a bundle that owns a section's wire format (ram, block, ...) offers a
 * {@link org.savevm.api.analyze.SectionAnalyzer} service that reads those sections of a stream file
 * without a machine and returns a neutral result (maps, lists, numbers, strings, booleans).
 */
@Export
@Version("1.2.0")
package org.savevm.api.analyze;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
