/**
 * The migration orchestrator as a service ({@link MigrationService}), its migrations
 * ({@link Outgoing}, {@link Incoming}), QEMU's {@link MigrationStatus} and query-migrate's
 * {@link MigrationInfo}; what tools built on migration (the demo) use.
 */
@Export
@Version("1.1.0")
package org.savevm.api.migration;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
