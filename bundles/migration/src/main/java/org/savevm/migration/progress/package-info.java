/** A terminal progress bar, drawn by migrate and by tools built on migration (the demo). */
@Export
@Version("1.0.0")
package org.savevm.migration.progress;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
