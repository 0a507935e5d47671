/**
 * The migration orchestrator as a service ({@link MigrationService}), its migrations
 * ({@link Outgoing}, {@link Incoming}), QEMU's {@link MigrationStatus} and query-migrate's
 * {@link MigrationInfo}; what tools built on migration (the demo) use.
 *
 * <p>1.1.0: {@link MigrationInfo#postcopyBytes()}, {@link MigrationInfo#blocktime()} ({@link PostcopyBlocktime}),
 * postcopy recovery: {@link Outgoing#resume}, {@link Incoming#recover}.
 */
@Export
@Version("1.2.0")
package org.savevm.api.migration;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
