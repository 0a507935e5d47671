/**
 * QEMU 7.2's migration capabilities and parameters: the one table of their names, defaults, ranges and refusal
 * texts, which the savevm core (configuration section), the orchestrator (migrate-set-capability,
 * migrate-set-parameter, ConfigAdmin) and the handlers all read; and {@link MigrationFeatures}, the service by which
 * an installed bundle says which of them it implements. A capability or parameter that no installed bundle
 * implements is refused, so a migration never starts with a promise nobody keeps.
 */
@Export
@Version("1.1.0")
package org.savevm.api.settings;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
